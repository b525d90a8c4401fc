#!/usr/bin/env python3
"""Trims a WordPiece tokenizer.json to the tokens some texts use (a small test fixture that tokenises those texts
exactly as the full vocabulary does: greedy longest-match only ever picks a token the full run picked).

usage: trim_wordpiece.py TOKENIZER_DIR FULL_GOLDEN.jsonl OUT_DIR
Keeps: the ids in FULL_GOLDEN.jsonl (encode.mjs output for the full vocabulary), every added token, and every
single-character token (and its ## form). Ids are renumbered in vocabulary order; goldens must then be made
from the trimmed file."""
import json, os, shutil, sys

src, golden, out = sys.argv[1:4]
tok = json.load(open(os.path.join(src, 'tokenizer.json'), encoding='utf-8'))
vocab = tok['model']['vocab']
by_id = {i: t for t, i in vocab.items()}
used = set()
for line in open(golden, encoding='utf-8'):
    if line.strip():
        used.update(json.loads(line)['ids'])
keep_tokens = {by_id[i] for i in used} | {a['content'] for a in tok['added_tokens']}
kept = [t for t, i in sorted(vocab.items(), key=lambda kv: kv[1])
        if t in keep_tokens or len(t) == 1 or (t.startswith('##') and len(t) == 3)]
new_id = {t: i for i, t in enumerate(kept)}
tok['model']['vocab'] = new_id
for a in tok['added_tokens']:
    a['id'] = new_id[a['content']]
pp = tok.get('post_processor') or {}
for name, special in (pp.get('special_tokens') or {}).items():
    special['ids'] = [new_id[t] for t in special['tokens']]
if tok.get('padding') and tok['padding'].get('pad_token') in new_id:
    tok['padding']['pad_id'] = new_id[tok['padding']['pad_token']]
os.makedirs(out, exist_ok=True)
json.dump(tok, open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8'), ensure_ascii=False, indent=None)
for extra in ('tokenizer_config.json', 'special_tokens_map.json'):
    if os.path.exists(os.path.join(src, extra)):
        shutil.copy(os.path.join(src, extra), os.path.join(out, extra))
print(f'{out}/tokenizer.json: {len(kept)} of {len(vocab)} tokens')
