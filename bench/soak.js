#!/usr/bin/env node
// Soak test of `pagedllm serve` (issue 21): rounds of 1,000 mixed requests at 48 concurrent, 30% of the streams
// disconnecting after their first chunk. Reports, per round: lost requests (no complete answer, and not one we
// aborted), 5xx answers, KV cache usage and queue gauges once idle, and the server's resident set; then the p50
// latency of kept-alive non-streaming requests.
//
//   node bench/soak.js --binary build/pagedllm --model models/stories260K [--rounds 3] [--requests 1000]
//        [--concurrency 48] [--chat-template tests/fixtures/chat_templates/tinyllama-chat.jinja]
//        [--serve-args "--kv-cache-memory 67108864"]
// The KV cache's pages become resident as its blocks are first used, so the resident set grows until the whole
// pool has been touched once; a fixed --kv-cache-memory makes that happen in the first round.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const binary = args.binary ?? 'build/pagedllm';
const model = args.model ?? 'models/stories260K';
const chatTemplate = args['chat-template'] ?? 'tests/fixtures/chat_templates/tinyllama-chat.jinja';
const numRounds = Number(args.rounds ?? 3);
const numRequests = Number(args.requests ?? 1000);
const concurrency = Number(args.concurrency ?? 48);
const serveArgs = (args['serve-args'] ?? '').split(' ').filter(Boolean);

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = spawn(binary, ['serve', '--model', model, '--host', '127.0.0.1', '--port', String(port),
                              '--chat-template', chatTemplate, ...serveArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
const residentMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
for (let i = 0; ; ++i) {
  try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* starting */ }
  if (i > 1200 || server.exitCode !== null) throw new Error('server did not start');
  await sleep(100);
}

async function gauges() {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)[1]);
  return { running: value('vllm:num_requests_running'), waiting: value('vllm:num_requests_waiting'),
           kv: value('vllm:kv_cache_usage_perc') };
}

const prompts = ['Once upon a time', 'Lily and Tom', 'The little dog', 'One day, a girl'];
// The i-th request of a round: a fixed mix, so every round sends the same load.
function requestFor(i) {
  const prompt = prompts[i % prompts.length];
  const maxTokens = 8 + (i * 7) % 57;
  const kind = i % 10;
  if (kind < 4) return { path: '/v1/completions', stream: false, body: { model: 'stories260K', prompt, max_tokens: maxTokens } };
  if (kind < 6) {
    return { path: '/v1/chat/completions', stream: false,
             body: { model: 'stories260K', messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens } };
  }
  const isChat = kind >= 8;
  const body = isChat ? { model: 'stories260K', messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, stream: true }
                      : { model: 'stories260K', prompt, max_tokens: maxTokens, stream: true, n: 1 + (i % 3) };
  // 4 requests in 10 are streams; 3 of every 10 streams disconnect after their first chunk.
  const disconnects = (Math.floor(i / 10) % 10) < 3;
  return { path: isChat ? '/v1/chat/completions' : '/v1/completions', stream: true, disconnects, body };
}

async function runOne(spec) {
  const controller = new AbortController();
  try {
    const response = await fetch(`${url}${spec.path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(spec.body),
      signal: controller.signal,
    });
    if (response.status >= 500) return { outcome: '5xx', status: response.status };
    if (!spec.stream) {
      const json = await response.json();
      return { outcome: json.choices?.length ? 'ok' : 'lost', status: response.status };
    }
    const reader = response.body.getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      if (spec.disconnects) {
        controller.abort();
        return { outcome: 'aborted' };
      }
    }
    return { outcome: text.includes('data: [DONE]') ? 'ok' : 'lost', status: response.status };
  } catch (e) {
    if (spec.disconnects && controller.signal.aborted) return { outcome: 'aborted' };
    return { outcome: 'lost', error: String(e) };
  }
}

async function round(index) {
  const counts = { ok: 0, aborted: 0, lost: 0, '5xx': 0 };
  let next = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < numRequests) {
      const result = await runOne(requestFor(next++));
      counts[result.outcome] += 1;
    }
  }));
  const seconds = (Date.now() - start) / 1000;
  let idle;
  for (let i = 0; i < 200; ++i) {
    idle = await gauges();
    if (idle.running === 0 && idle.waiting === 0 && idle.kv === 0) break;
    await sleep(50);
  }
  return { round: index, ...counts, seconds, requests_per_s: +(numRequests / seconds).toFixed(1),
           idle_gauges: idle, resident_mib: +residentMiB().toFixed(1) };
}

async function p50(path, body, count = 300) {
  const times = [];
  for (let i = 0; i < count; ++i) {
    const t0 = process.hrtime.bigint();
    const r = body ? await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                    body: JSON.stringify(body) })
                   : await fetch(`${url}${path}`);
    await r.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50_ms: +times[Math.floor(count / 2)].toFixed(3), p99_ms: +times[Math.floor(count * 0.99)].toFixed(3) };
}

const report = { resident_mib_at_start: +residentMiB().toFixed(1), rounds: [] };
for (let r = 1; r <= numRounds; ++r) {
  report.rounds.push(await round(r));
  console.error(JSON.stringify(report.rounds.at(-1)));
}
report.keepalive_latency = {
  'GET /v1/models': await p50('/v1/models'),
  'POST /v1/completions max_tokens 1': await p50('/v1/completions', { model: 'stories260K', prompt: 'Once', max_tokens: 1 }),
  'POST /v1/completions max_tokens 16': await p50('/v1/completions', { model: 'stories260K', prompt: 'Once', max_tokens: 16 }),
};
console.log(JSON.stringify(report, null, 2));
server.kill('SIGTERM');
const code = await new Promise((resolve) => server.on('exit', resolve));
const failed = report.rounds.some((r) => r.lost > 0 || r['5xx'] > 0 || r.idle_gauges.kv !== 0) || code !== 0;
process.exit(failed ? 1 : 0);
