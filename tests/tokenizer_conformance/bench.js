// Single-threaded encode throughput of Hugging Face tokenizers (npm 0.23.2), measured like
// bench_tokenizer_encode_mb_per_s: line by line, without special tokens, after one warm-up pass.
//   node bench.js TOKENIZER_JSON TEXT_FILE [MIN_SECONDS]
// Prints "MB/s <value>" per second of this process's CPU time (user + system, so other load on the machine does
// not count). Lines go to the Rust side in batches (encodeBatch) so that the per-call cost of the
// JavaScript binding does not count; TOKENIZERS_PARALLELISM=false keeps the batch on one thread.
'use strict';
process.env.TOKENIZERS_PARALLELISM = 'false';
process.env.RAYON_NUM_THREADS = '1';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const kBatchLines = 1000;

async function encodeAll(tokenizer, lines) {
  for (let i = 0; i < lines.length; i += kBatchLines) {
    await tokenizer.encodeBatch(lines.slice(i, i + kBatchLines), { addSpecialTokens: false });
  }
}

async function main() {
  const [tokenizerPath, textPath, minSecondsArg] = process.argv.slice(2);
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const text = fs.readFileSync(textPath, 'utf8');
  const bytes = Buffer.byteLength(text, 'utf8');
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) || [];
  const minSeconds = Number(minSecondsArg || 2);
  await encodeAll(tokenizer, lines);
  const start = process.cpuUsage();
  let total = 0;
  let seconds = 0;
  do {
    await encodeAll(tokenizer, lines);
    total += bytes;
    const used = process.cpuUsage(start);
    seconds = (used.user + used.system) / 1e6;
  } while (seconds < minSeconds);
  console.log(`MB/s ${(total / 1e6 / seconds).toFixed(3)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
