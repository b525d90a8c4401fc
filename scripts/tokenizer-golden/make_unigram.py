#!/usr/bin/env python3
"""Builds a small SentencePiece-Unigram tokenizer.json in the XLM-R shape (multilingual-e5, bge-m3, KURE-v1):
Sequence[Precompiled charsmap, Replace " {2,}" -> " "], Metaspace "▁" (prepend always), Unigram with scores,
<s> $A </s>, and <mask> with lstrip — for RagPlatform.Tokenizers' tests. Python standard library only.

The vocabulary and its scores come from the given texts (log relative frequency of words and word pieces,
Korean and English); some characters are left out on purpose so the unknown piece and its fusing get exercised.
The precompiled_charsmap is a real darts-clone double array (the format SentencePiece writes), built here from
NFKC rules for a subset of characters (fullwidth and halfwidth forms, circled and squared forms, ligatures,
compatibility jamo, a few composing sequences) plus SentencePiece's nmt rules (controls dropped, odd spaces
to " "), so the file stays small while exercising the longest-match lookup.

usage: make_unigram.py TEXTS.jsonl OUT_DIR"""
import base64, collections, json, math, os, struct, sys, unicodedata

texts_path, out = sys.argv[1:3]
texts = [json.loads(l) for l in open(texts_path, encoding='utf-8') if l.strip()]

# ---- normalisation rules (source string -> replacement) -------------------------------------------------
rules = {}
for c in list(range(0x01, 0x09)) + [0x0B] + list(range(0x0E, 0x20)) + [0x7F, 0x8F, 0x9F]:
    rules[chr(c)] = ''
for c in [0x09, 0x0A, 0x0C, 0x0D, 0xA0, 0x1680, *range(0x2000, 0x2010), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF, 0xFFFD]:
    rules[chr(c)] = ' '
nfkc_ranges = [(0xFF01, 0xFF5D), (0xFF61, 0xFFDC), (0x2460, 0x24FF), (0x3200, 0x33FF), (0xFB00, 0xFB06),
               (0x2160, 0x2188), (0x2100, 0x214F), (0x00A8, 0x00BF), (0x2070, 0x209F), (0x3131, 0x318E)]
for lo, hi in nfkc_ranges:
    for c in range(lo, hi + 1):
        s = chr(c)
        n = unicodedata.normalize('NFKC', s)
        if n != s and unicodedata.category(s) != 'Cn':
            rules[s] = n
# Composing sequences (multi-character rules: the longest match must win over the single-character ones).
for seq in ['e\u0301', 'a\u0300', 'u\u0308', 'o\u0308', '\u1100\u1161\u11a8', '\u1100\u1161', '\u1112\u1161\u11ab', '\u1112\u1161']:
    rules[seq] = unicodedata.normalize('NFKC', seq)

# The test texts' characters and 2-3 character sequences whose NFKC form (after the nmt rules) differs from the
# rules above applied one character at a time (halfwidth kana + sound marks, "…", composing jamo...): nmt_nfkc
# has such rules for every character and sequence; this fixture has them for what its texts use.
nmt = {src: dst for src, dst in rules.items() if dst in ('', ' ')}
def desired(seq):
    return unicodedata.normalize('NFKC', ''.join(nmt.get(c, c) for c in seq))
for text in texts:
    for c in text:
        if c not in rules and desired(c) != c and c != '\uFF5E':  # transformers.js keeps the fullwidth tilde
            rules[c] = desired(c)
for text in texts:
    for n in (2, 3):
        for start in range(0, len(text) - n + 1):
            seq = text[start:start + n]
            composes = desired(seq) != desired(seq[0]) + desired(seq[1:])
            if composes and desired(seq) != ''.join(rules.get(c, c) for c in seq):
                rules[seq] = desired(seq)

# ---- darts-clone double array over the UTF-8 keys --------------------------------------------------------
blob_strings = bytearray()
offsets = {}
keys = []
for src, dst in sorted(rules.items(), key=lambda kv: kv[0].encode('utf-8')):
    if dst not in offsets:
        offsets[dst] = len(blob_strings)
        blob_strings += dst.encode('utf-8') + b'\x00'
    keys.append((src.encode('utf-8'), offsets[dst]))

trie = [{'children': {}, 'value': None}]
for key, value in keys:
    node = 0
    for b in key:
        nxt = trie[node]['children'].get(b)
        if nxt is None:
            nxt = len(trie)
            trie.append({'children': {}, 'value': None})
            trie[node]['children'][b] = nxt
        node = nxt
    trie[node]['value'] = value

units = [0]
used = {0}
used_bases = set()  # as darts-clone: no two nodes share a base, else one node's children answer for another's
position = {0: 0}
queue = collections.deque([0])
def ensure(n):
    while len(units) <= n:
        units.append(0)
while queue:
    node = queue.popleft()
    p = position[node]
    labels = sorted(trie[node]['children'])
    if trie[node]['value'] is not None:
        labels = [0] + labels
    if not labels:
        continue
    base = 1
    while base in used_bases or any((base ^ l) in used or (base ^ l) == 0 for l in labels):
        base += 1
    used_bases.add(base)
    offset = p ^ base
    assert offset < (1 << 21)
    ensure(base | 0xFF)
    units[p] = (units[p] & ((1 << 31) | (1 << 8) | 0xFF)) | (offset << 10)
    if trie[node]['value'] is not None:
        units[p] |= 1 << 8
        units[base] = trie[node]['value'] | (1 << 31)
        used.add(base)
    for label, child in trie[node]['children'].items():
        q = base ^ label
        used.add(q)
        units[q] = label
        position[child] = q
        queue.append(child)
while units and units[-1] == 0:
    units.pop()
trie_blob = b''.join(struct.pack('<I', u) for u in units)
charsmap = struct.pack('<I', len(trie_blob)) + trie_blob + bytes(blob_strings)

def normalize(text):
    """The rules applied as SentencePiece does (longest match), then " {2,}" -> " ": for building the vocabulary."""
    out, i = [], 0
    while i < len(text):
        for length in range(min(4, len(text) - i), 0, -1):
            if text[i:i + length] in rules:
                out.append(rules[text[i:i + length]]); i += length; break
        else:
            out.append(text[i]); i += 1
    s = ''.join(out)
    while '  ' in s:
        s = s.replace('  ', ' ')
    return s

# ---- vocabulary and scores -----------------------------------------------------------------------------
left_out = set('🙂👍🏽©®™→←₩«»「」『』【】ΣΟΦΣσοφςПриветмΓειάσουκόμεمرحبالع北京是中国的首都日本語のテキストも少し漢字學校憲法條')
counts = collections.Counter()
for text in texts:
    for word in normalize(text).split(' '):
        if not word:
            continue
        piece = '\u2581' + word
        chars = list(piece)
        for n in range(1, min(6, len(chars)) + 1):
            for start in range(0, len(chars) - n + 1):
                sub = ''.join(chars[start:start + n])
                if any(c in left_out for c in sub):
                    continue
                counts[sub] += 1 if n > 1 else 3
        if len(chars) <= 12 and not any(c in left_out for c in chars):
            counts[piece] += 2
# Keep single characters and the frequent longer pieces; deterministic order (count desc, then text).
singles = sorted((p for p in counts if len(p) == 1), key=lambda p: (-counts[p], p))
longer = sorted((p for p in counts if len(p) > 1 and counts[p] >= 2), key=lambda p: (-counts[p], p))[:1500]
total = sum(counts[p] for p in singles + longer)
pieces = [['<s>', 0.0], ['<pad>', 0.0], ['</s>', 0.0], ['<unk>', 0.0]]
for p in longer + singles:
    # Longer pieces get a bonus so whole words beat their characters, as trained Unigram vocabularies do.
    score = math.log(counts[p] / total) + 1.5 * (len(p) - 1)
    pieces.append([p, round(score, 6)])
mask_id = len(pieces)

tok = {
    'version': '1.0', 'truncation': None, 'padding': None,
    'added_tokens': [
        {'id': 0, 'content': '<s>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
        {'id': 1, 'content': '<pad>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
        {'id': 2, 'content': '</s>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
        {'id': 3, 'content': '<unk>', 'single_word': False, 'lstrip': False, 'rstrip': False, 'normalized': False, 'special': True},
        {'id': mask_id, 'content': '<mask>', 'single_word': False, 'lstrip': True, 'rstrip': False, 'normalized': False, 'special': True},
    ],
    'normalizer': {'type': 'Sequence', 'normalizers': [
        {'type': 'Precompiled', 'precompiled_charsmap': base64.b64encode(charsmap).decode('ascii')},
        {'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '}]},
    'pre_tokenizer': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
    'post_processor': {'type': 'TemplateProcessing',
        'single': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
        'pair': [{'SpecialToken': {'id': '<s>', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}},
                 {'SpecialToken': {'id': '</s>', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 0}}, {'SpecialToken': {'id': '</s>', 'type_id': 0}}],
        'special_tokens': {t: {'id': t, 'ids': [i], 'tokens': [t]} for t, i in (('<s>', 0), ('</s>', 2))}},
    'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
    'model': {'type': 'Unigram', 'unk_id': 3, 'vocab': pieces + [['<mask>', 0.0]], 'byte_fallback': False},
}
os.makedirs(out, exist_ok=True)
json.dump(tok, open(os.path.join(out, 'tokenizer.json'), 'w', encoding='utf-8'), ensure_ascii=False)
json.dump({'model_max_length': 512, 'tokenizer_class': 'XLMRobertaTokenizer', 'bos_token': '<s>', 'eos_token': '</s>',
           'unk_token': '<unk>', 'sep_token': '</s>', 'cls_token': '<s>', 'pad_token': '<pad>', 'mask_token': '<mask>'},
          open(os.path.join(out, 'tokenizer_config.json'), 'w'), indent=1)
print(f'{out}/tokenizer.json: {len(pieces) + 1} pieces, {len(rules)} normalisation rules, charsmap {len(charsmap)} bytes')
