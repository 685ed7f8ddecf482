// Issue 21 (limits) and issue 20 (port binding) on servers started with their own flags.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { baseUrl, modelName, postJson } from './helpers.js';
import { spawnServe } from './hardening_util.js';

const chatTemplate = `${process.env.PAGEDLLM_MODEL_DIR}/../../tests/fixtures/chat_templates/tinyllama-chat.jinja`;

let queued;
let large;
before(async () => {
  queued = await spawnServe(['--max-queued-requests', '2', '--max-num-seqs', '2', '--chat-template', chatTemplate]);
  large = await spawnServe(['--max-request-body', String(17 << 20)]);
});
after(async () => {
  await Promise.all([queued?.stop(), large?.stop()]);
});

// 40 requests at once, each long enough (ignore_eos, 400 tokens) that none finishes before all are answered or
// admitted; returns the count of each status.
async function burst(url, n) {
  const body = { model: modelName, prompt: 'Once', max_tokens: 400, ignore_eos: true, n };
  const statuses = await Promise.all(Array.from({ length: 40 }, () =>
    postJson('/v1/completions', body, { url }).then((r) => r.status)));
  const counts = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

test('--max-queued-requests 2 with --max-num-seqs 2 admits 4 of 40 simultaneous requests', async () => {
  assert.deepEqual(await burst(queued.url, 1), { 200: 4, 503: 36 });
});

test('a request of n = 4 counts four sequences: 1 of 40 admitted', async () => {
  assert.deepEqual(await burst(queued.url, 4), { 200: 1, 503: 39 });
});

test('deep and wide 16 MiB JSON bodies leave the resident set where it was', async () => {
  const before = large.residentBytes();
  const deep = '['.repeat(16 << 20);
  const wide = `[${'1,'.repeat((8 << 20) - 1)}1]`;
  for (let round = 0; round < 4; ++round) {
    const results = await Promise.all([deep, deep, wide].map((body) => postJson('/tokenize', body, { url: large.url })));
    assert.deepEqual(results.map((r) => r.status), [400, 400, 400]);
    assert.equal(results[0].json.error.message,
      'The request body is not acceptable JSON: nesting deeper than 64 levels at byte 64');
    assert.equal(results[2].json.error.message, 'The request body must be a JSON object');
  }
  // The server returns freed memory after it has written each answer, so the last one may still be on its way.
  let grown;
  for (let i = 0; i < 50; ++i) {
    grown = large.residentBytes() - before;
    if (grown < 64 << 20) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(grown < 64 << 20, `resident set grew by ${(grown / 2 ** 20).toFixed(1)} MiB (before ${before})`);
});

test('a second serve on a port in use fails with "Address already in use" and exits 1', async () => {
  const port = Number(new URL(baseUrl).port);
  const second = await spawnServe([], { port });
  assert.equal(second.exitCode, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: Address already in use`));
});

test('--port outside [0, 65535] is refused', async () => {
  for (const port of [99999, -1]) {
    const r = await spawnServe([], { port });
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--port must be in \\[0, 65535\\], got ${port}`));
  }
});
