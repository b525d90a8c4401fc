#!/usr/bin/env bash
# Debian's RabbitMQ in the foreground on 127.0.0.1, for the AppHost's Local infrastructure (an executable resource;
# DCP gives it its ports and stops it with SIGTERM, which the server script turns into a graceful shutdown).
#   rabbitmq.sh run <statedir>
# Environment (all required): RABBITMQ_NODE_PORT (AMQP), RABBITMQ_DIST_PORT (Erlang distribution),
# ERL_EPMD_PORT (the epmd the AppHost runs as a resource of its own, so that no epmd outlives it),
# RABBITMQ_MANAGEMENT_PORT, RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS.
# The node's name, cookie, queues and messages stay in <statedir> across stops and starts; when the password is
# not the one the node was created with, the node's database is started afresh (a development broker).
set -euo pipefail
command=${1:?usage: rabbitmq.sh run <statedir>}
[ "$command" = run ] || { echo "usage: rabbitmq.sh run <statedir>" >&2; exit 2; }
mkdir -p "${2:?usage: rabbitmq.sh run <statedir>}"
state=$(cd "$2" && pwd)
: "${RABBITMQ_NODE_PORT:?}" "${RABBITMQ_DIST_PORT:?}" "${ERL_EPMD_PORT:?}" "${RABBITMQ_MANAGEMENT_PORT:?}"
: "${RABBITMQ_DEFAULT_USER:?}" "${RABBITMQ_DEFAULT_PASS:?}"
bin=/usr/lib/rabbitmq/bin
[ -x "$bin/rabbitmq-server" ] || { echo "RabbitMQ is not installed (apt-get install rabbitmq-server; scripts/setup/20-servers.sh)" >&2; exit 1; }

umask 077
mkdir -p "$state/home" "$state/mnesia" "$state/log"
[ -s "$state/node" ] || echo "rag$RANDOM$RANDOM@localhost" > "$state/node"
if [ ! -s "$state/home/.erlang.cookie" ]; then
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/home/.erlang.cookie"
  chmod 400 "$state/home/.erlang.cookie"
fi

# The default user is created with the node's database only: a new password means a new database.
credentials=$(printf '%s\n%s' "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$state/credentials" 2>/dev/null)" != "$credentials" ]; then
  rm -rf "$state/mnesia"
  mkdir -p "$state/mnesia"
  echo "$credentials" > "$state/credentials"
fi

echo '[rabbitmq_management].' > "$state/enabled_plugins"
# The password goes to a file only the server reads (never the command line); the user may connect from
# loopback only, which is where everything listens.
{
  echo "listeners.tcp.default = 127.0.0.1:$RABBITMQ_NODE_PORT"
  echo "management.tcp.ip = 127.0.0.1"
  echo "management.tcp.port = $RABBITMQ_MANAGEMENT_PORT"
  echo "default_user = $RABBITMQ_DEFAULT_USER"
  echo "default_pass = $RABBITMQ_DEFAULT_PASS"
} > "$state/rabbitmq.conf"
: > "$state/rabbitmq-env.conf"

export HOME="$state/home"
export RABBITMQ_NODENAME
RABBITMQ_NODENAME=$(cat "$state/node")
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_MNESIA_BASE="$state/mnesia"
export RABBITMQ_LOG_BASE="$state/log"
# Log to standard output, which DCP hands to the dashboard.
export RABBITMQ_LOGS=-
export RABBITMQ_ENABLED_PLUGINS_FILE="$state/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$state/rabbitmq.conf"
export RABBITMQ_CONF_ENV_FILE="$state/rabbitmq-env.conf"
# Never an epmd of the node's own: at boot, and whenever its epmd monitor finds epmd gone (as when the AppHost stops
# everything at once), RabbitMQ would start one as a daemon that outlives the AppHost. ERL_AFLAGS reaches every erl it
# spawns for that.
export ERL_AFLAGS="-start_epmd false"
# The Erlang distribution listener (for rabbitmqctl) on loopback too, not on every interface.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
unset RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS
exec "$bin/rabbitmq-server"
