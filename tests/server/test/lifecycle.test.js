// The other endpoints, and graceful shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseUrl, client, golden, makeClient, modelName, postJson, startServer } from './helpers.js';

const once = golden('once_upon_a_time');

test('/health, /version and /v1/models', async () => {
  assert.equal((await fetch(`${baseUrl}/health`)).status, 200);
  const version = await (await fetch(`${baseUrl}/version`)).json();
  assert.equal(typeof version.version, 'string');
  const models = await client.models.list();
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

test('SIGTERM lets the request in flight finish, refuses new work and exits 0', async () => {
  const server = await startServer();
  const stream = await makeClient(server.url).completions.create({
    model: modelName, prompt: once.prompt, max_tokens: 300, temperature: 0, ignore_eos: true, stream: true,
  });
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
      await new Promise((r) => setTimeout(r, 100));
      const refused = await fetch(`${server.url}/health`).then((r) => r.status, () => 'refused');
      assert.ok(refused === 'refused' || refused === 503, `new work after SIGTERM: ${refused}`);
    }
  }
  assert.equal(finish, 'length', 'the stream in flight completed');
  assert.ok(text.length > 0);
  const { code } = await server.exited;
  assert.equal(code, 0);
});
