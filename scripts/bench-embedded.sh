#!/usr/bin/env bash
# Embedded exact backend measurement (issue 5): the "embedded" plugin against Debian's python3-faiss
# IndexFlatIP on the same unit vectors, in one run. Prints one JSON line per engine, then the ratios:
# single-query QPS (one caller, one query per call, on both sides) and the plugin's QPS with CLIENTS
# concurrent callers (which it answers as batched matrix products) against python3-faiss searching
# CLIENTS queries per call (its BLAS path).
#   ./scripts/bench-embedded.sh [N=100000] [DIM=384] [QUERIES=1000] [CLIENTS=64] [BATCHING=on|off]
# Needs python3-faiss (apt-get install -y python3-faiss; run with /usr/bin/python3, Debian's interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; dim=${2:-384}; queries=${3:-1000}; clients=${4:-64}; batching=${5:-on}
work=$(pwd)/artifacts/bench/flat-$n-$dim-$queries
mkdir -p "$work"
dpkg-query -W -f='${Status}' python3-faiss 2>/dev/null | grep -q "install ok installed" || apt-get install -y -qq python3-faiss

if [ ! -f "$work/truth.i64" ]; then
  echo "==> $n x $dim unit vectors, $queries queries, exact top-10 (IndexFlatIP)" >&2
  /usr/bin/python3 scripts/bench/faiss_bench.py generate "$work" "$n" "$dim" "$queries" 42
fi
echo "==> RagPlatform embedded backend: one query per call, then $clients concurrent callers (batching $batching)" >&2
dotnet_line=$(dotnet run -c Release scripts/bench/EmbeddedBench.cs -- "$work" "$clients" "$batching")
echo "$dotnet_line"
echo "==> python3-faiss IndexFlatIP: one query per call, then $clients queries per call" >&2
python_line=$(/usr/bin/python3 scripts/bench/flat_bench.py "$work" "$clients")
echo "$python_line"
/usr/bin/python3 - "$python_line" "$dotnet_line" <<'PY'
import json, sys
python, dotnet = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"single_qps_ratio_plugin_over_python": round(dotnet["qps"] / python["qps"], 3),
                  "concurrent_qps_plugin_over_python_batch": round(dotnet["concurrent_qps"] / python["batch_qps"], 3),
                  "recall_plugin": dotnet["recall_at_10"], "recall_python": python["recall_at_10"]}))
PY
