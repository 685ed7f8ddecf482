// The other endpoints, and graceful shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseUrl, client, golden, goldenText, makeClient, modelName, postJson, startServer } from './helpers.js';

const once = golden('once_upon_a_time');

test('/health, /version and /v1/models', async () => {
  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
  // The version ServerConfig carries (src/server/server_config.h).
  assert.deepEqual(await (await fetch(`${baseUrl}/version`)).json(), { version: '0.1.0' });
  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, modelName);
  assert.equal(models.data[0].object, 'model');
});

test('/tokenize and /detokenize match the golden prompt ids', async () => {
  const t = await postJson('/tokenize', { prompt: once.prompt });
  assert.equal(t.status, 200);
  assert.deepEqual(t.json.tokens, once.prompt_token_ids);
  assert.equal(t.json.count, once.prompt_token_ids.length);
  assert.equal(t.json.max_model_len, 512);
  const d = await postJson('/detokenize', { tokens: once.prompt_token_ids.slice(1) });
  assert.equal(d.status, 200);
  assert.equal(d.json.prompt, once.prompt);
});

// Until the server answers /health with 503 or refuses the connection; fails after timeoutMs.
async function waitUntilRefused(url, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/health`).then((r) => r.status, () => 'refused');
    if (status === 'refused' || status === 503) return;
    if (Date.now() > deadline) throw new Error(`new work still accepted after SIGTERM: /health ${status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('SIGTERM lets the request in flight finish, refuses new work and exits 0', async () => {
  const params = { model: modelName, prompt: once.prompt, max_tokens: 300, temperature: 0, ignore_eos: true };
  const expected = (await client.completions.create(params)).choices[0].text;
  assert.ok(expected.startsWith(goldenText(once, 128)));
  const server = await startServer();
  const stream = await makeClient(server.url).completions.create({ ...params, stream: true });
  let text = '';
  let finish = null;
  let signalled = false;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      text += choice.text;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (!signalled) {
      signalled = true;
      server.child.kill('SIGTERM');
      await waitUntilRefused(server.url);
    }
  }
  assert.equal(finish, 'length', 'the stream in flight completed');
  assert.equal(text, expected);
  const { code } = await server.exited;
  assert.equal(code, 0);
});
