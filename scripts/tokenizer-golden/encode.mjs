// Expected token ids from transformers.js (the correctness reference for RagPlatform.Tokenizers).
// usage: node encode.mjs TOKENIZER_DIR TEXTS.jsonl OUT.jsonl [--tokens]
//   TOKENIZER_DIR holds tokenizer.json (and tokenizer_config.json if the model has one); read offline.
//   TEXTS.jsonl: one JSON string a line. OUT.jsonl: one {"text", "ids", "type_ids"} object a line.
// transformers.js is found in $TJS_DIR/node_modules (default: artifacts/tokenizer-golden, see setup.sh).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tjsDir = resolve(process.env.TJS_DIR ?? join(here, '../../artifacts/tokenizer-golden'));
const require = createRequire(join(tjsDir, 'package.json'));
const { PreTrainedTokenizer } = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href);

const [dir, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node encode.mjs TOKENIZER_DIR TEXTS.jsonl OUT.jsonl');
  process.exit(2);
}
const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
const configPath = join(dir, 'tokenizer_config.json');
const tokenizerConfig = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
// No truncation: the goldens are full-length encodings (our truncation keeps the closing special token,
// transformers.js's cuts it off; that difference is documented, not compared here).
delete tokenizerConfig.model_max_length;
const tokenizer = new PreTrainedTokenizer(tokenizerJson, tokenizerConfig);

const texts = readFileSync(textsPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const lines = texts.map((text) => {
  const encoded = tokenizer(text, { return_tensor: false, return_token_type_ids: true });
  const ids = encoded.input_ids;
  const typeIds = encoded.token_type_ids ?? new Array(ids.length).fill(0);
  return JSON.stringify({ text, ids, type_ids: typeIds });
});
writeFileSync(outPath, lines.join('\n') + '\n');

// Throughput on the same texts (warm, one thread), to set beside RagPlatform.Tokenizers.GoldenCheck's figure.
let rounds = 0;
const started = performance.now();
while (performance.now() - started < 2000 || rounds === 0) {
  for (const text of texts) tokenizer(text, { return_tensor: false });
  rounds++;
}
const perSecond = (rounds * texts.length) / ((performance.now() - started) / 1000);
console.error(`${texts.length} texts encoded by transformers.js into ${outPath}; ${perSecond.toFixed(0)} texts/s on one thread`);
