#!/usr/bin/env bash
# The distributed topology on this machine, without Docker: RabbitMQ, PostgreSQL (when scripts/servers/postgres.sh
# exists) and Redis on loopback with free ports, then the ingestion service, N embedding workers and the query API
# as separate processes with the environment the Aspire AppHost injects. See docs/distributed.md.
#
#   scripts/dev-up.sh [statedir]      (default artifacts/dev; RAG_WORKERS=2, RAG_CONFIGURATION=Release,
#                                      RAG_NO_BUILD=1 to use the dlls as they are)
#   scripts/dev-down.sh [statedir]    stops everything by PID
#
# Prints the service URLs (and the same as KEY=value lines in <statedir>/urls.env).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/servers/free-port.sh"
mkdir -p "${1:-$root/artifacts/dev}"
state=$(cd "${1:-$root/artifacts/dev}" && pwd)
workers=${RAG_WORKERS:-2}
configuration=${RAG_CONFIGURATION:-Release}
mkdir -p "$state/services" "$state/data"

dll_of() { echo "$root/services/$1/bin/$configuration/net10.0/$1.dll"; }
if [ -z "${RAG_NO_BUILD:-}" ]; then
  for project in RagPlatform.IngestionService RagPlatform.EmbeddingWorker RagPlatform.QueryApi; do
    dotnet build "$root/services/$project/$project.csproj" -c "$configuration" -v q -nologo >&2
  done
fi

# Servers. Each start prints one ConnectionStrings__<name>=… line.
messaging=$("$root/scripts/servers/rabbitmq.sh" start "$state/servers")
cache=$("$root/scripts/servers/redis.sh" start "$state/servers")
ragdb=
if [ -x "$root/scripts/servers/postgres.sh" ]; then
  ragdb=$("$root/scripts/servers/postgres.sh" start "$state/servers")
fi

# Ports stay the same across dev-up runs on one state dir, so a restarted service keeps its URL.
port_of() {
  local file="$state/services/$1.port"
  [ -s "$file" ] || free_port > "$file"
  cat "$file"
}

# write_service NAME PROJECT OTEL_NAME KEY=VALUE...: the environment of one process, as the AppHost would give it.
write_service() {
  local name=$1 project=$2 otel=$3; shift 3
  local port; port=$(port_of "$name")
  {
    echo "ASPNETCORE_URLS=http://127.0.0.1:$port"
    # The services' appsettings.json pin "Urls" (a fixed port for `dotnet run`), which outranks ASPNETCORE_URLS;
    # the unprefixed variable outranks appsettings.json.
    echo "URLS=http://127.0.0.1:$port"
    echo "ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}"
    echo "OTEL_SERVICE_NAME=$otel"
    echo "OTEL_RESOURCE_ATTRIBUTES=service.instance.id=$name"
    echo "RagPlatform__DataDirectory=$state/data"
    echo "RagPlatform__Embedding__Provider=${RAG_EMBEDDING_PROVIDER:-hashing}"
    echo "RagPlatform__VectorStore__Backend=${RAG_VECTOR_BACKEND:-embedded}"
    [ -z "$ragdb" ] || echo "$ragdb"
    for pair in "$@"; do echo "$pair"; done
  } > "$state/services/$name.env"
  printf 'dll=%q\nurl=%q\n' "$(dll_of "$project")" "http://127.0.0.1:$port" > "$state/services/$name.cmd"
}

query_url="http://127.0.0.1:$(port_of query-api)"
# The query API owns the file-based indexes (embedded vectors, lexical); the other processes write through it.
write_service query-api RagPlatform.QueryApi query-api "$cache" RagPlatform__IndexOwner__Serve=true
write_service ingestion RagPlatform.IngestionService ingestion "$messaging" \
  RagPlatform__IndexOwner__Endpoint="$query_url" services__queryapi__http__0="$query_url"
names=(query-api ingestion)
for i in $(seq 1 "$workers"); do
  write_service "worker-$i" RagPlatform.EmbeddingWorker embedding-worker "$messaging" "$cache" \
    RagPlatform__IndexOwner__Endpoint="$query_url" services__queryapi__http__0="$query_url"
  names+=("worker-$i")
done
printf '%s\n' "${names[@]}" > "$state/services/names"

for name in "${names[@]}"; do
  "$root/scripts/dev-service.sh" start "$state" "$name"
done

{
  echo "INGESTION_URL=http://127.0.0.1:$(port_of ingestion)"
  echo "QUERY_URL=$query_url"
  for i in $(seq 1 "$workers"); do echo "WORKER_${i}_URL=http://127.0.0.1:$(port_of "worker-$i")"; done
  echo "RABBITMQ=amqp://127.0.0.1:${messaging##*:}"
  echo "REDIS=${cache#*=}"
} > "$state/urls.env"
echo "RagPlatform distributed topology is up (state: $state):"
sed 's/^/  /' "$state/urls.env"
