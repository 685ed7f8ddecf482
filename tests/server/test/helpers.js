// Shared pieces of the server tests: the client of the server that run.sh started, /metrics parsing, goldens,
// and a way to start extra servers (other flags) from the same binary and model.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';

export const baseUrl = process.env.PAGEDLLM_BASE_URL;
export const modelName = process.env.PAGEDLLM_MODEL_NAME ?? 'stories260K';
export const modelDir = process.env.PAGEDLLM_MODEL_DIR;
if (!baseUrl || !modelDir) throw new Error('run these tests through run.sh (PAGEDLLM_BASE_URL, PAGEDLLM_MODEL_DIR)');

export function makeClient(url = baseUrl, apiKey = 'EMPTY') {
  // No retries: every answer the server gives must be the one the test sees.
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: 120_000 });
}
export const client = makeClient();

export function golden(name) {
  return JSON.parse(readFileSync(path.join(modelDir, 'golden', `${name}.json`), 'utf8'));
}
export const goldenNames = ['once_upon_a_time', 'lily_and_tom', 'the_little_dog', 'long_200'];

// The text of the first numTokens golden greedy tokens, decoded here from the model's tokenizer.json (a
// SentencePiece-style vocabulary: '▁' is a space, <0xNN> a byte), as a continuation: no leading space stripped.
let vocabById = null;
export function goldenText(g, numTokens) {
  if (!vocabById) {
    const tokenizer = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'));
    vocabById = [];
    for (const [piece, id] of Object.entries(tokenizer.model.vocab)) vocabById[id] = piece;
  }
  const ids = g.greedy_token_ids_ignoring_bos_stop.slice(0, numTokens);
  if (ids.length !== numTokens) throw new Error(`the golden has only ${ids.length} tokens`);
  const bytes = [];
  for (const id of ids) {
    const piece = vocabById[id];
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    if (byte) bytes.push(parseInt(byte[1], 16));
    else bytes.push(...Buffer.from(piece.replaceAll('\u2581', ' '), 'utf8'));
  }
  const text = Buffer.from(bytes).toString('utf8');
  // The decoding here must agree with the golden's own text, or the tests built on it would check nothing.
  if (!text || !g.greedy_text_ignoring_bos_stop.startsWith(text)) throw new Error(`decoded golden text ${text}`);
  return text;
}

// Prometheus text → Map of 'name{labels}' (labels as written) → number.
export async function metrics(url = baseUrl) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}
// The value of an unlabelled-but-model_name metric, e.g. metric(m, 'vllm:num_requests_running').
export function metric(samples, name, extraLabels = '') {
  for (const [key, value] of samples) {
    if (key.startsWith(`${name}{`) && key.includes(extraLabels)) return value;
  }
  throw new Error(`metric ${name}${extraLabels} missing`);
}

// Polls until predicate(samples) holds; fails after timeoutMs.
export async function waitForMetrics(predicate, timeoutMs = 20_000, url = baseUrl) {
  const deadline = Date.now() + timeoutMs;
  let samples;
  while (Date.now() < deadline) {
    samples = await metrics(url);
    if (predicate(samples)) return samples;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`metrics did not settle: running=${metric(samples, 'vllm:num_requests_running')} ` +
                  `kv=${metric(samples, 'vllm:kv_cache_usage_perc')}`);
}
export const numInFlight = (s) => metric(s, 'vllm:num_requests_running') + metric(s, 'vllm:num_requests_waiting');
export const isIdle = (s) => metric(s, 'vllm:num_requests_running') === 0 &&
  metric(s, 'vllm:num_requests_waiting') === 0 && metric(s, 'vllm:kv_cache_usage_perc') === 0;

export async function postJson(pathName, body, { url = baseUrl, headers = {} } = {}) {
  const response = await fetch(`${url}${pathName}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON: the test looks at text */ }
  return { status: response.status, json, text };
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

// Starts `pagedllm serve` with extra flags on a free port (serving run.sh's model unless `model` names other
// `serve` arguments); resolves once /health answers 200.
export async function startServer(extraArgs = [], { model = ['--model', modelDir] } = {}) {
  const binary = process.env.PAGEDLLM_BINARY;
  const port = await freePort();
  const args = ['serve', ...model, '--host', '127.0.0.1', '--port', String(port),
                ...(process.env.PAGEDLLM_SERVE_ARGS ?? '').split(' ').filter(Boolean), ...extraArgs];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pagedllm serve ${args.join(' ')} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('pagedllm serve did not become healthy in 120 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

// SmolLM2-135M's shape with random weights (--load-format dummy): ~500 times the work of stories260K per token, so
// a request of 1000 tokens stays in flight for seconds. Tests that must see requests running hold them there with
// this model and end them themselves, instead of racing stories260K, which finishes 480 tokens in milliseconds.
export const slowModelName = 'smollm2-135m-dummy';
export async function startSlowServer(extraArgs = []) {
  const dir = fileURLToPath(new URL(`../../../models/${slowModelName}`, import.meta.url));
  return startServer(['--max-model-len', '2048', '--kv-cache-memory', String(512 << 20), ...extraArgs], {
    model: ['--model', dir, '--load-format', 'dummy', '--served-model-name', slowModelName],
  });
}
