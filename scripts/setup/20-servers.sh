# The distributed-mode tests and scripts/dev-up.sh start Debian's RabbitMQ and Redis by hand on loopback
# (scripts/servers/*.sh); apt installs them without starting them (no systemd here). curl: dev-up's health waits.
ensure_debian_packages rabbitmq-server redis-server curl
