#!/usr/bin/env bash
# Regenerates tests/RagPlatform.Tokenizers.Tests/Fixtures from the shared vocabularies and texts.jsonl:
# trimmed WordPiece tokenizer.json files, the Unigram tokenizer.json, and transformers.js goldens for all three.
# Needs node + npm (setup.sh) and /work/shared (SHARED=...). Not part of the test run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../../shared}
[ -d "$shared/tokenizers" ] || shared=/work/shared
fixtures="$root/tests/RagPlatform.Tokenizers.Tests/Fixtures"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/setup.sh" >/dev/null

python3 "$here/bert_tokenizer_json.py" "$shared/tokenizers/kr-sbert-v40k/vocab.txt" "$work/kr-full"
node "$here/encode.mjs" "$work/kr-full" "$fixtures/texts.jsonl" "$work/kr-full.jsonl"
python3 "$here/trim_wordpiece.py" "$work/kr-full" "$work/kr-full.jsonl" "$fixtures/kr-sbert-v40k"
node "$here/encode.mjs" "$shared/tokenizers/all-minilm-l6-v2" "$fixtures/texts.jsonl" "$work/minilm-full.jsonl"
python3 "$here/trim_wordpiece.py" "$shared/tokenizers/all-minilm-l6-v2" "$work/minilm-full.jsonl" "$fixtures/all-minilm-l6-v2"
python3 "$here/make_unigram.py" "$fixtures/texts.jsonl" "$fixtures/unigram-ko-en"
for fixture in kr-sbert-v40k all-minilm-l6-v2 unigram-ko-en; do
  node "$here/encode.mjs" "$fixtures/$fixture" "$fixtures/texts.jsonl" "$fixtures/$fixture/golden.jsonl"
done
chmod u+w "$fixtures"/*/*
