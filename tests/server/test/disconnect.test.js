// Clients that go away mid-request: their requests are aborted and every KV block returns (seen via /metrics).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, isIdle, metric, metrics, modelName, waitForMetrics } from './helpers.js';

const abortedCount = (s) => metric(s, 'vllm:request_success_total', 'finished_reason="abort"');

test('streaming clients that disconnect after their first chunk are aborted', async () => {
  await waitForMetrics(isIdle);
  const before = abortedCount(await metrics());
  const NUM = 8;
  await Promise.all(Array.from({ length: NUM }, async (_, i) => {
    const stream = await client.completions.create({
      model: modelName, prompt: `Story ${i}:`, max_tokens: 480, temperature: 0, ignore_eos: true, stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices.some((c) => c.text)) break;  // leaving the loop aborts the HTTP request
    }
  }));
  const after = await waitForMetrics((s) => isIdle(s) && abortedCount(s) >= before + NUM);
  assert.equal(abortedCount(after), before + NUM);
});

test('non-streaming clients that disconnect leave nothing behind', async () => {
  await waitForMetrics(isIdle);
  // stories260K can finish 480 tokens in tens of milliseconds, so whether each request is still running when its
  // client leaves is up to timing; either way the engine must end idle with every block back.
  await Promise.all(Array.from({ length: 8 }, async (_, i) => {
    const controller = new AbortController();
    const pending = client.completions.create(
      { model: modelName, prompt: `Once ${i}`, max_tokens: 480, temperature: 0, ignore_eos: true },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 5 + i);
    await assert.rejects(pending);
  }));
  await waitForMetrics(isIdle);
  const r = await client.completions.create({ model: modelName, prompt: 'Once', max_tokens: 4 });
  assert.equal(r.choices[0].finish_reason, 'length', 'the server keeps serving');
});
