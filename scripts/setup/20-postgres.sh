# PostgreSQL for the Postgres metadata store / lexical index tests and distributed mode
# (started by scripts/servers/postgres.sh). Debian 12 ships PostgreSQL 15.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  ensure_debian_packages postgresql
fi
