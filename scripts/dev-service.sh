#!/usr/bin/env bash
# One service process of the dev topology (written by scripts/dev-up.sh):
#   dev-service.sh start <statedir> <name>   starts <name> with the environment in <statedir>/services/<name>.env,
#                                            waits for /health, records its PID in <statedir>/services/<name>.pid
#   dev-service.sh stop <statedir> <name>    stops it by PID (SIGTERM, then SIGKILL after 20 s)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/servers/free-port.sh"

command=${1:?usage: dev-service.sh start|stop <statedir> <name>}
state=$(cd "${2:?statedir}" && pwd)
name=${3:?name}
dir="$state/services"
pidfile="$dir/$name.pid"

case "$command" in
  start)
    [ -s "$dir/$name.env" ] || { echo "no $dir/$name.env: run scripts/dev-up.sh first" >&2; exit 2; }
    if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      exit 0
    fi
    # shellcheck disable=SC1090
    source "$dir/$name.cmd"   # defines dll and url
    mapfile -t environment < "$dir/$name.env"
    # Content root = the service's own output folder, as when it is started from there.
    (cd "$(dirname "$dll")" && exec setsid nohup env "${environment[@]}" dotnet "$dll" >> "$dir/$name.log" 2>&1 < /dev/null) &
    echo $! > "$pidfile"
    pid=$!
    for _ in $(seq 1 600); do
      if curl -fsS -o /dev/null "$url/health" 2>/dev/null; then
        exit 0
      fi
      kill -0 "$pid" 2>/dev/null || { echo "$name exited during start-up; see $dir/$name.log" >&2; exit 1; }
      sleep 0.2
    done
    echo "$name did not answer $url/health within 120 s; see $dir/$name.log" >&2
    exit 1
    ;;
  stop)
    [ -s "$pidfile" ] || exit 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait_gone "$pid" 20 || kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: dev-service.sh start|stop <statedir> <name>" >&2
    exit 2
    ;;
esac
