// Under tensor parallelism (tests/server/run.sh with PAGEDLLM_SERVE_LAUNCHER, see tests/CMakeLists.txt): a streaming
// client that leaves after its first chunk is aborted on rank 0, and the workers, which only replay rank 0's steps,
// keep serving: the next request still gets the golden greedy text. The run.sh server serves stories260K as 2 ranks;
// 400 tokens over loopback MPI take far longer than the abort needs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  client, golden, goldenText, isIdle, metric, metrics, modelName, waitForMetrics,
} from '../server/test/helpers.js';

const aborted = (s) => metric(s, 'vllm:request_success_total', 'finished_reason="abort"');

test('a streaming client that disconnects is aborted and the ranks keep serving', async () => {
  const before = await metrics();
  const stream = await client.completions.create({
    model: modelName, prompt: 'Once upon a time', max_tokens: 400, temperature: 0, ignore_eos: true, stream: true,
  });
  for await (const chunk of stream) {
    assert.ok(chunk.choices[0].text.length >= 0);
    stream.controller.abort();
    break;
  }
  const done = await waitForMetrics((s) => isIdle(s) && aborted(s) === aborted(before) + 1, 20_000);
  assert.equal(aborted(done), aborted(before) + 1);
  const g = golden('once_upon_a_time');
  const reply = await client.completions.create({ model: modelName, prompt: g.prompt, max_tokens: 16, temperature: 0 });
  assert.equal(reply.choices[0].text, goldenText(g, 16));
});
