#!/usr/bin/env bash
# FAISS HNSW measurement (issue 5): the "faiss" plugin against Debian's python3-faiss on the same vectors,
# in one run. The plugin builds the index (HNSW<M>,Flat, inner product on unit vectors) and checkpoints
# it; python3-faiss then searches that very index file with the same efSearch, so the two QPS figures
# differ only in the search path. Prints one JSON line per engine, then the QPS ratio.
#   [DATA=uniform|lowrank] ./scripts/bench-faiss.sh [N=100000] [DIM=384] [QUERIES=1000] [M=32] [EF_CONSTRUCTION=40] [EF_SEARCH=128] [reuse]
# DATA picks the vectors (scripts/bench/faiss_bench.py): uniform (isotropic, a graph index's worst case; the
# default) or lowrank (near a 32-dimensional subspace, spread more like text embeddings).
# "reuse" searches the index the previous run built (same N/DIM/QUERIES) instead of building it again.
# Needs what scripts/test.sh installs and builds (libfaiss-dev, artifacts/native/libragfaiss.so) plus
# python3-faiss (apt-get install -y python3-faiss; run with /usr/bin/python3, Debian's interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; dim=${2:-384}; queries=${3:-1000}; m=${4:-32}; efc=${5:-40}; efs=${6:-128}; reuse=${7:-}
data=${DATA:-uniform}
work=$(pwd)/artifacts/bench/faiss-$n-$dim-$queries$([ "$data" = uniform ] || echo "-$data")
mkdir -p "$work"
native=$(pwd)/artifacts/native/libragfaiss.so
[ -f "$native" ] || { echo "Build the shim first: ./scripts/test.sh (or the cmake commands in plugins/RagPlatform.Plugins.Faiss/native/CMakeLists.txt)" >&2; exit 1; }
dpkg-query -W -f='${Status}' python3-faiss 2>/dev/null | grep -q "install ok installed" || apt-get install -y -qq python3-faiss

if [ ! -f "$work/truth.i64" ]; then
  echo "==> $n x $dim unit vectors, $queries queries, exact top-10 (IndexFlatIP)" >&2
  /usr/bin/python3 scripts/bench/faiss_bench.py generate "$work" "$n" "$dim" "$queries" 42 "$data"
fi
echo "==> RagPlatform faiss plugin: HNSW$m efConstruction=$efc, efSearch=$efs, one query per call" >&2
dotnet_line=$(dotnet run -c Release scripts/bench/FaissBench.cs -- "$work" "$m" "$efc" "$efs" "$native" $reuse)
echo "$dotnet_line"
index_file=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["index_file"])' "$dotnet_line")
echo "==> python3-faiss on the same index file, efSearch=$efs, one query per call" >&2
python_line=$(/usr/bin/python3 scripts/bench/faiss_bench.py search "$work" "$index_file" "$efs")
echo "$python_line"
/usr/bin/python3 - "$python_line" "$dotnet_line" <<'PY'
import json, sys
python, dotnet = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({"qps_ratio_plugin_over_python": round(dotnet["qps"] / python["qps"], 3),
                  "recall_plugin": dotnet["recall_at_10"], "recall_python": python["recall_at_10"]}))
PY
