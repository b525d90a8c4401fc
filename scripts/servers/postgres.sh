#!/usr/bin/env bash
# Debian's PostgreSQL on loopback for the AppHost's Local infrastructure and the tests, without systemd or Docker.
#   postgres.sh run <statedir>     in the foreground, for the AppHost (an executable resource): PGPORT and
#                                  POSTGRES_PASSWORD from the environment. Initialises <statedir>/data once (password
#                                  authentication over TCP, 127.0.0.1 only), sets the postgres role's password to
#                                  POSTGRES_PASSWORD at every start (through stdin, never the command line), then
#                                  becomes the server (exec: its PID is the resource's; SIGTERM stops it).
#   postgres.sh start <statedir>   initialises <statedir>/data (trust auth, fsync off), starts the server on
#                                  127.0.0.1 on a free port with its socket in <statedir>, creates `ragdb`, and
#                                  prints exactly one line to stdout:
#                                  ConnectionStrings__ragdb=Host=127.0.0.1;Port=…;Username=postgres;Password=…;Database=ragdb
#   postgres.sh stop <statedir>    stops the server by the PID in <statedir>/data/postmaster.pid.
# Everything else goes to stderr or <statedir>/postgres.log. Runs as root (CI) or as any user.
set -euo pipefail

usage() { echo "usage: $0 run|start|stop <statedir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
command=$1
statedir=$(mkdir -p "$2" && cd "$2" && pwd)
data="$statedir/data"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin); run scripts/setup/20-postgres.sh" >&2
  exit 1
fi

# Postgres refuses to run as root: run its tools as the `postgres` user then, owning the state directory.
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  # A random port nobody listens on (per /proc/net/tcp*, no extra tools needed); a race with another
  # process binding it meanwhile makes pg_ctl fail, and start tries another.
  local port hex
  while true; do
    port=$((20000 + RANDOM % 40000))
    hex=$(printf '%04X' "$port")
    if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2, $4}' | grep -q ":$hex 0A$"; then
      echo "$port"
      return
    fi
  done
}

case "$command" in
  run)
    : "${PGPORT:?}" "${POSTGRES_PASSWORD:?}"
    as_server=()
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$statedir"
      chmod 700 "$statedir"
      if ! setpriv --reuid=postgres --regid=postgres --init-groups test -w "$statedir"; then
        echo "The postgres user cannot reach $statedir (a parent directory is private); choose a state directory it can reach." >&2
        exit 1
      fi
      # setpriv executes in place (no child, unlike runuser): the server keeps this process's PID.
      as_server=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
      "${as_server[@]}" "$bindir/initdb" -D "$data" -U postgres --auth-host=scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 \
        >"$statedir/initdb.log" 2>&1 || { cat "$statedir/initdb.log" >&2; exit 1; }
    fi
    # Single-user mode, before the server listens: the password the AppHost holds now is the one that works.
    password=${POSTGRES_PASSWORD//\'/\'\'}
    unset POSTGRES_PASSWORD
    printf "ALTER ROLE postgres PASSWORD '%s';\n" "$password" | "${as_server[@]}" "$bindir/postgres" --single -D "$data" postgres >/dev/null \
      || { echo "PostgreSQL in $data could not be opened to set the password" >&2; exit 1; }
    unset password
    # synchronous_commit=off: a commit returns before its WAL reaches the disk (a crash may lose the last few
    # hundred milliseconds, never corrupts): the trade a development database makes for the services' many commits.
    exec "${as_server[@]}" "$bindir/postgres" -D "$data" -p "$PGPORT" -k "$statedir" -c listen_addresses=127.0.0.1 \
      -c synchronous_commit=off -c max_connections=200
    ;;
  start)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$statedir"
      if ! runuser -u postgres -- test -w "$statedir"; then
        echo "The postgres user cannot reach $statedir (a parent directory is private); use a state directory under /tmp." >&2
        exit 1
      fi
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
      as_server_user "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$statedir/initdb.log" 2>&1 \
        || { cat "$statedir/initdb.log" >&2; exit 1; }
    fi
    started=""
    if [ -f "$data/postmaster.pid" ] && kill -0 "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null; then
      # Already running (a second `start`): report the running server instead of failing.
      port=$(sed -n 4p "$data/postmaster.pid")
      started=1
    fi
    for _ in 1 2 3 4 5; do
      [ -z "$started" ] || break
      port=$(free_port)
      if as_server_user "$bindir/pg_ctl" -D "$data" -l "$statedir/postgres.log" -w -t 30 \
          -o "-p $port -k $statedir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
          start >/dev/null 2>&1; then
        started=1
        break
      fi
      # Most likely someone took the port between the probe and the bind: try another.
      sleep 0.2
    done
    if [ -z "$started" ]; then
      echo "PostgreSQL did not start; see $statedir/postgres.log" >&2
      tail -n 20 "$statedir/postgres.log" >&2 || true
      exit 1
    fi
    if [ "$(as_server_user "$bindir/psql" -h "$statedir" -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ragdb'")" != "1" ]; then
      as_server_user "$bindir/createdb" -h "$statedir" -p "$port" -U postgres ragdb
    fi
    # Trust auth ignores the password; Npgsql and Aspire's format still carry one.
    echo "ConnectionStrings__ragdb=Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=ragdb"
    ;;
  stop)
    pidfile="$data/postmaster.pid"
    [ -f "$pidfile" ] || exit 0
    pid=$(head -n 1 "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      # SIGINT = fast shutdown: active sessions are disconnected, no waiting for clients.
      kill -INT "$pid"
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid" 2>/dev/null || true
      fi
    fi
    ;;
  *)
    usage
    ;;
esac
