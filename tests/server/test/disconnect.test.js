// Clients that go away mid-request: their requests are aborted and every KV block returns (seen via /metrics).
// The requests run on a server of the slow model (helpers.js), where 1000 tokens keep them in the engine for
// seconds: each client leaves while its request is certainly still running, so every one must count as an abort.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { APIUserAbortError } from 'openai';
import {
  client, isIdle, makeClient, metric, metrics, modelName, numInFlight, slowModelName, startSlowServer, waitForMetrics,
} from './helpers.js';

const finishedCount = (s, reason) => metric(s, 'vllm:request_success_total', `finished_reason="${reason}"`);
const abortedCount = (s) => finishedCount(s, 'abort');
const NUM = 8;

let slow;
let slowClient;
before(async () => {
  slow = await startSlowServer();
  slowClient = makeClient(slow.url);
});
after(async () => {
  await slow?.stop();
});

// Waits until the NUM requests left are all aborted and the engine is idle again, none having run to its end.
async function expectAllAborted(beforeSamples) {
  const done = await waitForMetrics(
    (s) => isIdle(s) && abortedCount(s) === abortedCount(beforeSamples) + NUM, 20_000, slow.url);
  assert.equal(abortedCount(done), abortedCount(beforeSamples) + NUM);
  assert.equal(finishedCount(done, 'length'), finishedCount(beforeSamples, 'length'), 'no request ran to its end');
}

test('streaming clients that disconnect after their first chunk are aborted', async () => {
  const start = await waitForMetrics(isIdle, 20_000, slow.url);
  await Promise.all(Array.from({ length: NUM }, async (_, i) => {
    const stream = await slowClient.completions.create({
      model: slowModelName, prompt: `Story ${i}:`, max_tokens: 1000, temperature: 0, ignore_eos: true, stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices.some((c) => c.text)) break;  // leaving the loop aborts the HTTP request
    }
  }));
  await expectAllAborted(start);
});

test('non-streaming clients that disconnect are aborted and leave nothing behind', async () => {
  const start = await waitForMetrics(isIdle, 20_000, slow.url);
  const controllers = Array.from({ length: NUM }, () => new AbortController());
  const pending = controllers.map((controller, i) => slowClient.completions.create(
    { model: slowModelName, prompt: `Once ${i}`, max_tokens: 1000, temperature: 0, ignore_eos: true },
    { signal: controller.signal },
  ));
  // Every client leaves only once its request is in the engine.
  await waitForMetrics((s) => numInFlight(s) === NUM, 60_000, slow.url);
  for (const controller of controllers) controller.abort();
  for (const p of pending) await assert.rejects(p, (e) => e instanceof APIUserAbortError);
  await expectAllAborted(start);
  const r = await client.completions.create({ model: modelName, prompt: 'Once', max_tokens: 4 });
  assert.equal(r.choices[0].finish_reason, 'length', 'the main server keeps serving');
});
