#!/usr/bin/env bash
# Stops what scripts/dev-up.sh started, every process by its PID: the services, then the servers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${1:-$root/artifacts/dev}
[ -d "$state" ] || exit 0
state=$(cd "$state" && pwd)
if [ -d "$state/services" ]; then
  for pidfile in "$state"/services/*.pid; do
    [ -e "$pidfile" ] || continue
    "$root/scripts/dev-service.sh" stop "$state" "$(basename "$pidfile" .pid)"
  done
fi
"$root/scripts/servers/redis.sh" stop "$state/servers"
"$root/scripts/servers/rabbitmq.sh" stop "$state/servers"
if [ -x "$root/scripts/servers/postgres.sh" ]; then
  "$root/scripts/servers/postgres.sh" stop "$state/servers"
fi
echo "RagPlatform distributed topology is down (state: $state)."
