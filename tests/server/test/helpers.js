// Shared pieces of the server tests: the client of the server that run.sh started, /metrics parsing, goldens,
// and a way to start extra servers (other flags) from the same binary and model.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

// Starts `pagedllm serve` with extra flags on a free port; resolves once /health answers 200.
export async function startServer(extraArgs = []) {
  const binary = process.env.PAGEDLLM_BINARY;
  const modelDir = process.env.PAGEDLLM_MODEL_DIR;
  const port = await freePort();
  const args = ['serve', '--model', modelDir, '--host', '127.0.0.1', '--port', String(port),
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
