// 64 concurrent streaming clients: every one gets its complete, correct output; /metrics shows continuous batching
// (more than one request running) while they run, and an idle engine (0 running, 0 KV usage) afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, golden, goldenNames, isIdle, metric, metrics, modelName, waitForMetrics } from './helpers.js';

const NUM_CLIENTS = 64;
const MAX_TOKENS = 96;

test(`${NUM_CLIENTS} concurrent streams are all complete and batched together`, async () => {
  const prompts = goldenNames.map((name) => golden(name).prompt);
  const expected = await Promise.all(prompts.map(async (prompt) => (await client.completions.create({
    model: modelName, prompt, max_tokens: MAX_TOKENS, temperature: 0, ignore_eos: true,
  })).choices[0].text));

  let maxRunning = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      maxRunning = Math.max(maxRunning, metric(await metrics(), 'vllm:num_requests_running'));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

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
  polling = false;
  await poller;

  for (const [i, r] of results.entries()) {
    assert.equal(r.finish, 'length', `client ${i}`);
    assert.equal(r.text, r.expected, `client ${i}`);
  }
  assert.ok(maxRunning > 1, `continuous batching: at most ${maxRunning} request(s) were seen running together`);
  await waitForMetrics(isIdle);
});
