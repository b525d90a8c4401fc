// Anchor of `rag bench rerank`: transformers.js's text-classification pipeline on a local cross-encoder folder.
// usage: node tjs_rerank.mjs MODEL_DIR REQUESTS.json OUT.json
// REQUESTS.json: [{ "query": "...", "passages": ["...", ...] }, ...]. Each request is one call, as a search reranks its
// candidates. The pipeline's _call tokenizes single texts only (4.x), so the pairs go through the pipeline's own
// tokenizer with text_pair and its own model, the way transformers.js documents cross-encoders; scores are
// sigmoid(logit) for one label (the pipeline's multi_label function), softmax's second label for two.
import { pipeline, env } from '@huggingface/transformers';
import fs from 'node:fs';
import path from 'node:path';

const [modelDir, requestsFile, outFile] = process.argv.slice(2);
env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(modelDir));
const requests = JSON.parse(fs.readFileSync(requestsFile, 'utf8'));
const t0 = performance.now();
const classifier = await pipeline('text-classification', path.basename(path.resolve(modelDir)), { dtype: 'fp32', device: 'cpu' });
const t1 = performance.now();

async function score(query, passages) {
  const inputs = classifier.tokenizer(new Array(passages.length).fill(query), { text_pair: passages, padding: true, truncation: true });
  const { logits } = await classifier.model(inputs);
  const [rows, labels] = logits.dims;
  const data = logits.data;
  const out = new Array(rows);
  for (let i = 0; i < rows; i++) {
    out[i] = labels === 1 ? 1 / (1 + Math.exp(-data[i])) : 1 / (1 + Math.exp(data[2 * i] - data[2 * i + 1]));
  }
  return out;
}

await score(requests[0].query, requests[0].passages); // warm-up, as ours has one
const latencies = [];
const scores = [];
let pairs = 0;
const t2 = performance.now();
for (const request of requests) {
  const started = performance.now();
  scores.push(await score(request.query, request.passages));
  latencies.push(performance.now() - started);
  pairs += request.passages.length;
}
const t3 = performance.now();
fs.writeFileSync(outFile, JSON.stringify({ scores, latencies }));
console.log(JSON.stringify({ engine: 'transformers.js', requests: requests.length, pairs, load_s: (t1 - t0) / 1000, seconds: (t3 - t2) / 1000, pairs_per_s: pairs / ((t3 - t2) / 1000) }));
