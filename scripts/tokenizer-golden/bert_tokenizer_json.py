#!/usr/bin/env python3
"""Writes a Hugging Face tokenizer.json (+ tokenizer_config.json) for a WordPiece vocab.txt, in the same shape
as ../shared/bench/make_bert_onnx.py writes next to its ONNX model (BertNormalizer, BertPreTokenizer,
WordPiece, [CLS] ... [SEP] template). Optionally keeps only the given tokens (a trimmed test fixture).

usage: bert_tokenizer_json.py VOCAB.txt OUT_DIR [--lowercase] [--keep TOKENS.txt] [--max-length N]"""
import argparse, json, os

p = argparse.ArgumentParser()
p.add_argument('vocab')
p.add_argument('out')
p.add_argument('--lowercase', action='store_true')
p.add_argument('--keep', help='a file of tokens (one a line) to keep; specials and single characters are always kept')
p.add_argument('--max-length', type=int, default=512)
a = p.parse_args()

vocab = [line.rstrip('\n') for line in open(a.vocab, encoding='utf-8')]
specials = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')
if a.keep:
    keep = set(line.rstrip('\n') for line in open(a.keep, encoding='utf-8'))
    keep.update(specials)
    vocab = [t for t in vocab if t in keep or len(t) == 1 or (t.startswith('##') and len(t) == 3)]

tok = {
    'version': '1.0', 'truncation': None, 'padding': None,
    'added_tokens': [{'id': vocab.index(t), 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
                      'normalized': False, 'special': True} for t in specials if t in vocab],
    'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True,
                   'strip_accents': None, 'lowercase': a.lowercase},
    'pre_tokenizer': {'type': 'BertPreTokenizer'},
    'post_processor': {'type': 'TemplateProcessing',
        'single': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                   {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}],
        'pair': [{'SpecialToken': {'id': '[CLS]', 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                 {'SpecialToken': {'id': '[SEP]', 'type_id': 0}}, {'Sequence': {'id': 'B', 'type_id': 1}},
                 {'SpecialToken': {'id': '[SEP]', 'type_id': 1}}],
        'special_tokens': {t: {'id': t, 'ids': [vocab.index(t)], 'tokens': [t]} for t in ('[CLS]', '[SEP]')}},
    'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
    'model': {'type': 'WordPiece', 'unk_token': '[UNK]', 'continuing_subword_prefix': '##',
              'max_input_chars_per_word': 100, 'vocab': {t: i for i, t in enumerate(vocab)}},
}
os.makedirs(a.out, exist_ok=True)
json.dump(tok, open(os.path.join(a.out, 'tokenizer.json'), 'w', encoding='utf-8'), ensure_ascii=False)
json.dump({'do_lower_case': a.lowercase, 'model_max_length': a.max_length, 'tokenizer_class': 'BertTokenizer',
           'cls_token': '[CLS]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'unk_token': '[UNK]', 'mask_token': '[MASK]'},
          open(os.path.join(a.out, 'tokenizer_config.json'), 'w'), indent=1)
print(f'wrote {a.out}/tokenizer.json: {len(vocab)} tokens')
