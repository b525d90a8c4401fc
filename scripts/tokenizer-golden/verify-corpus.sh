#!/usr/bin/env bash
# Token-id equality with transformers.js over the whole AutoRAG corpus (1,896 chunks of ../shared/bench/make_texts.py)
# for both shared WordPiece vocabularies and the test Unigram tokenizer (with its charsmap, and with a null charsmap:
# transformers.js's stand-in). Prints "N/N texts identical" per tokenizer. Needs node and /work/shared.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-/work/shared}
work="$root/artifacts/tokenizer-golden/corpus"
mkdir -p "$work"
bash "$here/setup.sh" >/dev/null
python3 "$shared/bench/make_texts.py" "$shared/eval/autorag-ko/corpus.jsonl" "$work/texts.jsonl" 400 2000 >/dev/null
python3 "$here/bert_tokenizer_json.py" "$shared/tokenizers/kr-sbert-v40k/vocab.txt" "$work/kr-sbert-v40k" >/dev/null
mkdir -p "$work/unigram-null-charsmap"
python3 - "$root/tests/RagPlatform.Tokenizers.Tests/Fixtures/unigram-ko-en/tokenizer.json" "$work/unigram-null-charsmap/tokenizer.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1], encoding='utf-8'))
t['normalizer']['normalizers'][0]['precompiled_charsmap'] = None
json.dump(t, open(sys.argv[2], 'w', encoding='utf-8'), ensure_ascii=False)
PY
dotnet build "$root/tests/RagPlatform.Tokenizers.GoldenCheck" -c Release --nologo -v quiet >/dev/null
check="$root/tests/RagPlatform.Tokenizers.GoldenCheck/bin/Release/net10.0/RagPlatform.Tokenizers.GoldenCheck.dll"
status=0
for tokenizer in "$work/kr-sbert-v40k" "$shared/tokenizers/all-minilm-l6-v2" \
                 "$root/tests/RagPlatform.Tokenizers.Tests/Fixtures/unigram-ko-en" "$work/unigram-null-charsmap"; do
  name=$(basename "$tokenizer")
  tjs=$(node "$here/encode.mjs" "$tokenizer" "$work/texts.jsonl" "$work/$name.golden.jsonl" 2>&1 | tail -n 1)
  ours=$(dotnet "$check" "$tokenizer" "$work/$name.golden.jsonl" | tail -n 1) || status=1
  echo "$name: $ours (transformers.js: ${tjs##*; })"

done
exit $status
