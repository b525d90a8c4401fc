# Debian's RabbitMQ (with epmd), PostgreSQL 15 and Redis 7: the AppHost's Local infrastructure runs them as executable
# resources (scripts/servers/*.sh run), and the storage and cache tests start them on loopback. apt installs them without
# starting them (no systemd here).
ensure_debian_packages rabbitmq-server redis-server
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  ensure_debian_packages postgresql
fi
