#!/usr/bin/env bash
# Redis on 127.0.0.1, no persistence (a cache), no systemd.
#   redis.sh run <statedir>     in the foreground, for the AppHost's Local infrastructure (an executable resource):
#                               REDIS_PORT and REDIS_PASSWORD from the environment; the password goes into a
#                               config file only the server reads, never onto the command line
#   redis.sh start <statedir>   as a daemon for the tests (on the same port again if <statedir> was used before),
#                               no password; prints exactly one line: ConnectionStrings__cache=127.0.0.1:<port>
#   redis.sh stop <statedir>    stops that daemon by its PID (no-op when not running)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/free-port.sh"

command=${1:?usage: redis.sh run|start|stop <statedir>}
state=${2:?usage: redis.sh run|start|stop <statedir>}
mkdir -p "$state/redis"
state=$(cd "$state/redis" && pwd)

case "$command" in
  run)
    : "${REDIS_PORT:?}" "${REDIS_PASSWORD:?}"
    umask 077
    {
      echo "bind 127.0.0.1"
      echo "port $REDIS_PORT"
      echo "save \"\""
      echo "appendonly no"
      echo "dir $state"
      echo "requirepass $REDIS_PASSWORD"
    } > "$state/redis.conf"
    unset REDIS_PASSWORD
    exec redis-server "$state/redis.conf"
    ;;
  start)
    [ -s "$state/port" ] || free_port > "$state/port"
    port=$(cat "$state/port")
    if [ -s "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "ConnectionStrings__cache=127.0.0.1:$port"
      exit 0
    fi
    rm -f "$state/pid"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --pidfile "$state/pid" --dir "$state" --logfile "$state/redis.log" >/dev/null
    for _ in $(seq 1 100); do
      if [ -s "$state/pid" ] && redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "ConnectionStrings__cache=127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "redis did not answer on 127.0.0.1:$port; see $state/redis.log" >&2
    exit 1
    ;;
  stop)
    [ -s "$state/pid" ] || exit 0
    pid=$(cat "$state/pid")
    kill "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || kill -9 "$pid" 2>/dev/null || true
    rm -f "$state/pid"
    ;;
  *)
    echo "usage: redis.sh run|start|stop <statedir>" >&2
    exit 2
    ;;
esac
