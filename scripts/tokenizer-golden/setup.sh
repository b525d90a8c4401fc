#!/usr/bin/env bash
# Installs transformers.js 4.x (tokenizers only are used; no ONNX Runtime download) into
# artifacts/tokenizer-golden, for encode.mjs. Not needed by the test suite (goldens are committed).
set -euo pipefail
dir="$(cd "$(dirname "$0")/../.." && pwd)/artifacts/tokenizer-golden"
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/@huggingface/transformers" ]; then
  (cd "$dir" && npm init -y >/dev/null && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent @huggingface/transformers@4 >/dev/null)
fi
echo "transformers.js ready in $dir"
