#!/usr/bin/env bash
# Debian's RabbitMQ on 127.0.0.1 for the distributed mode (dev-up, tests), no systemd, no root service.
#   rabbitmq.sh start <statedir>   starts a node (same node, ports and queues again if <statedir> was used
#                                  before: durable queues and persistent messages survive a stop/start) and
#                                  prints exactly one line: ConnectionStrings__messaging=amqp://guest:guest@127.0.0.1:<port>
#   rabbitmq.sh stop <statedir>    rabbitmqctl shutdown, then the epmd it leaves behind, both by PID
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/free-port.sh"

command=${1:?usage: rabbitmq.sh start|stop <statedir>}
state=${2:?usage: rabbitmq.sh start|stop <statedir>}
mkdir -p "$state/rabbitmq"
state=$(cd "$state/rabbitmq" && pwd)
bin=/usr/lib/rabbitmq/bin

if [ ! -s "$state/settings" ]; then
  {
    echo "node=rag$RANDOM$RANDOM@localhost"
    echo "amqp_port=$(free_port)"
    echo "dist_port=$(free_port)"
    echo "epmd_port=$(free_port)"
  } > "$state/settings"
fi
# shellcheck disable=SC1091
source "$state/settings"
mkdir -p "$state/home" "$state/mnesia" "$state/log"
echo '[].' > "$state/enabled_plugins"
: > "$state/rabbitmq.conf"
: > "$state/rabbitmq-env.conf"

rabbit_env=(
  HOME="$state/home"
  RABBITMQ_NODENAME="$node"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  RABBITMQ_NODE_PORT="$amqp_port"
  RABBITMQ_DIST_PORT="$dist_port"
  ERL_EPMD_PORT="$epmd_port"
  ERL_EPMD_ADDRESS=127.0.0.1
  RABBITMQ_MNESIA_BASE="$state/mnesia"
  RABBITMQ_LOG_BASE="$state/log"
  RABBITMQ_ENABLED_PLUGINS_FILE="$state/enabled_plugins"
  RABBITMQ_CONFIG_FILE="$state/rabbitmq.conf"
  RABBITMQ_CONF_ENV_FILE="$state/rabbitmq-env.conf"
)
connection="ConnectionStrings__messaging=amqp://guest:guest@127.0.0.1:$amqp_port"

ctl() { env "${rabbit_env[@]}" "$bin/rabbitmqctl" "$@"; }

case "$command" in
  start)
    if ! [ -s "$state/pid" ] || ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      # One cookie for the node and for rabbitmqctl, written before either could race to create its own.
      if [ ! -s "$state/home/.erlang.cookie" ]; then
        head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/home/.erlang.cookie"
        chmod 400 "$state/home/.erlang.cookie"
      fi
      setsid nohup env "${rabbit_env[@]}" "$bin/rabbitmq-server" > "$state/server.out" 2>&1 < /dev/null &
      echo $! > "$state/pid"
    fi
    pid=$(cat "$state/pid")
    # await_startup fails at once while the node is not yet registered with epmd: ask again until it answers.
    deadline=$((SECONDS + 300))
    until ctl await_startup --timeout 60 > "$state/await.out" 2>&1; do
      if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
        echo "rabbitmq did not start on 127.0.0.1:$amqp_port; see $state/server.out, $state/await.out and $state/log" >&2
        exit 1
      fi
      sleep 1
    done
    # The epmd that the node started (a daemon of its own session): remembered so stop can end it by PID.
    # It inherited this node's ERL_EPMD_PORT, which tells it apart from any other epmd on the machine.
    for proc in /proc/[0-9]*; do
      if [ "$(cat "$proc/comm" 2>/dev/null)" = epmd ] \
        && tr '\0' '\n' < "$proc/environ" 2>/dev/null | grep -qx "ERL_EPMD_PORT=$epmd_port"; then
        echo "${proc#/proc/}" > "$state/epmd.pid"
        break
      fi
    done
    echo "$connection"
    ;;
  stop)
    if [ -s "$state/pid" ]; then
      pid=$(cat "$state/pid")
      if kill -0 "$pid" 2>/dev/null; then
        ctl -q --timeout 30 shutdown >/dev/null 2>&1 || true
        # The server runs in its own session (setsid): its process group id is its PID.
        wait_gone "$pid" 30 || kill -9 -- "-$pid" 2>/dev/null || true
      fi
      rm -f "$state/pid"
    fi
    if [ -s "$state/epmd.pid" ]; then
      kill "$(cat "$state/epmd.pid")" 2>/dev/null || true
      rm -f "$state/epmd.pid"
    fi
    ;;
  *)
    echo "usage: rabbitmq.sh start|stop <statedir>" >&2
    exit 2
    ;;
esac
