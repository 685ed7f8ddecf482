// 64 concurrent streaming clients: every one gets its complete, correct output, and the engine is idle (0 running,
// 0 KV usage) afterwards. Continuous batching is seen on /metrics with requests held in flight on the slow model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  client, golden, goldenNames, isIdle, makeClient, metric, modelName, slowModelName, startSlowServer, waitForMetrics,
} from './helpers.js';

const NUM_CLIENTS = 64;
const MAX_TOKENS = 96;

test(`${NUM_CLIENTS} concurrent streams are all complete and correct`, async () => {
  const prompts = goldenNames.map((name) => golden(name).prompt);
  const expected = await Promise.all(prompts.map(async (prompt) => (await client.completions.create({
    model: modelName, prompt, max_tokens: MAX_TOKENS, temperature: 0, ignore_eos: true,
  })).choices[0].text));

  const results = await Promise.all(Array.from({ length: NUM_CLIENTS }, async (_, i) => {
    const stream = await client.completions.create({
      model: modelName, prompt: prompts[i % prompts.length], max_tokens: MAX_TOKENS, temperature: 0,
      ignore_eos: true, stream: true,
    });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.text;
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    return { text, finish, expected: expected[i % prompts.length] };
  }));
  for (const [i, r] of results.entries()) {
    assert.equal(r.finish, 'length', `client ${i}`);
    assert.equal(r.text, r.expected, `client ${i}`);
  }
  await waitForMetrics(isIdle);
});

// Streams of 1000 tokens on the slow model stay in the engine for seconds: all of them must be seen running at once
// (one batch), after which the clients leave and every request is aborted.
test('requests in flight together run in one batch', async () => {
  const NUM = 8;
  const slow = await startSlowServer();
  try {
    const slowClient = makeClient(slow.url);
    const streams = await Promise.all(Array.from({ length: NUM }, (_, i) => slowClient.completions.create({
      model: slowModelName, prompt: `Story ${i}:`, max_tokens: 1000, temperature: 0, ignore_eos: true, stream: true,
    })));
    const together = await waitForMetrics((s) => metric(s, 'vllm:num_requests_running') === NUM, 60_000, slow.url);
    assert.equal(metric(together, 'vllm:num_requests_waiting'), 0);
    for (const stream of streams) stream.controller.abort();
    const done = await waitForMetrics(isIdle, 20_000, slow.url);
    assert.equal(metric(done, 'vllm:request_success_total', 'finished_reason="abort"'), NUM);
  } finally {
    await slow.stop();
  }
});
