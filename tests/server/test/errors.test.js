// Every error case answers its status and an OpenAI-shaped body, and the server keeps serving afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { client, makeClient, modelName, postJson, startServer } from './helpers.js';

function assertErrorBody(json, status) {
  assert.equal(typeof json?.error?.message, 'string', JSON.stringify(json));
  assert.equal(typeof json.error.type, 'string');
  assert.ok('param' in json.error);
  assert.equal(json.error.code, status);
}

async function assertStillServing() {
  const r = await client.completions.create({ model: modelName, prompt: 'Hi', max_tokens: 2 });
  assert.equal(r.choices[0].finish_reason, 'length');
}

// [what, route, body, the error's param, its message]: the whole body is asserted, vLLM's wording where vLLM has one.
const badRequests = [
  ['malformed JSON', '/v1/completions', '{"prompt": "Hi", ', null, 'The request body is not valid JSON'],
  ['a body that is not an object', '/v1/completions', '[1, 2]', null, 'The request body must be a JSON object'],
  ['max_tokens of the wrong type', '/v1/completions', { prompt: 'Hi', max_tokens: 'ten' }, 'max_tokens',
    'max_tokens must be an integer, got "ten"'],
  ['negative max_tokens', '/v1/completions', { prompt: 'Hi', max_tokens: -1 }, 'max_tokens',
    'max_tokens must be at least 1, got -1'],
  ['negative temperature', '/v1/completions', { prompt: 'Hi', temperature: -0.5 }, 'temperature',
    'temperature must be in [0, 2], got -0.5'],
  ['top_p of 0', '/v1/completions', { prompt: 'Hi', top_p: 0 }, 'top_p', 'top_p must be in (0, 1], got 0'],
  ['top_p above 1', '/v1/completions', { prompt: 'Hi', top_p: 1.5 }, 'top_p', 'top_p must be in (0, 1], got 1.5'],
  ['n of 0', '/v1/completions', { prompt: 'Hi', n: 0 }, 'n', 'n must be at least 1, got 0'],
  ['a missing prompt', '/v1/completions', { max_tokens: 3 }, 'prompt', 'prompt is required'],
  ['a token id outside the vocabulary', '/v1/completions', { prompt: [1, 100000] }, 'prompt',
    'Token id 100000 is out of vocabulary'],
  ['stream_options without stream', '/v1/completions', { prompt: 'Hi', stream_options: { include_usage: true } },
    'stream_options', 'Stream options can only be defined when `stream=True`.'],
  ['response_format of an unknown type', '/v1/chat/completions',
    { messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'xml' } }, 'response_format.type',
    'response_format.type must be text, json_object or json_schema, got xml'],
  ['response_format json_schema without a schema', '/v1/chat/completions',
    { messages: [{ role: 'user', content: 'Hi' }], response_format: { type: 'json_schema', json_schema: {} } },
    'response_format.json_schema.schema', 'response_format of type json_schema needs json_schema.schema'],
  ['tools without a tool-call parser', '/v1/chat/completions',
    { messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'function', function: { name: 'f' } }] },
    'tool_choice', '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'],
  ['an unknown role', '/v1/chat/completions', { messages: [{ role: 'wizard', content: 'Hi' }] }, 'messages[0].role',
    'messages[0].role must be one of system, developer, user, assistant, tool'],
  ['no messages', '/v1/chat/completions', { messages: [] }, 'messages',
    'messages must be a non-empty list of messages'],
];

for (const [what, path, body, param, message] of badRequests) {
  test(`${what} is a 400 naming the field`, async () => {
    const r = await postJson(path, body);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.json, { error: { code: 400, message, param, type: 'BadRequestError' } });
    await assertStillServing();
  });
}

test('prompt + max_tokens beyond the context gives vLLM\'s message', async () => {
  const r = await postJson('/v1/completions', { prompt: 'Once upon a time', max_tokens: 600 });
  assert.equal(r.status, 400);
  assertErrorBody(r.json, 400);
  assert.match(r.json.error.message, /^This model's maximum context length is 512 tokens\. However, you requested 600 output tokens and your prompt contains 5 input tokens, for a total of 605 tokens\./);
  await assert.rejects(client.completions.create({ model: modelName, prompt: 'Hi', max_tokens: 1000 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400);
  await assertStillServing();
});

test('an unknown model is a 404', async () => {
  await assert.rejects(client.completions.create({ model: 'no-such-model', prompt: 'Hi' }),
    (e) => e instanceof OpenAI.NotFoundError && /does not exist/.test(e.message));
  await assertStillServing();
});

test('an unknown route is a 404 in OpenAI\'s shape', async () => {
  const r = await postJson('/v1/nothing', {});
  assert.equal(r.status, 404);
  assertErrorBody(r.json, 404);
  await assertStillServing();
});

test('a body over --max-request-body is a 413', async () => {
  const r = await postJson('/v1/completions', { prompt: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(r.status, 413);
  assertErrorBody(r.json, 413);
  await assertStillServing();
});

let guarded;
let full;
before(async () => {
  // One after the other: two engines loading at once on a small machine is slow enough to time out.
  guarded = await startServer(['--api-key', 'test-key']);
  full = await startServer(['--max-queued-requests', '0']);
});
after(async () => {
  await Promise.all([guarded?.stop(), full?.stop()]);
});

test('--api-key: 401 without or with a wrong bearer token, 200 with the right one', async () => {
  const noKey = await postJson('/v1/completions', { prompt: 'Hi', max_tokens: 1 }, { url: guarded.url });
  assert.equal(noKey.status, 401);
  assertErrorBody(noKey.json, 401);
  await assert.rejects(makeClient(guarded.url, 'wrong').completions.create({ model: modelName, prompt: 'Hi' }),
    (e) => e instanceof OpenAI.AuthenticationError);
  const ok = await makeClient(guarded.url, 'test-key').completions.create({ model: modelName, prompt: 'Hi', max_tokens: 1 });
  assert.equal(ok.choices.length, 1);
  assert.equal((await fetch(`${guarded.url}/health`)).status, 200, 'only /v1 routes need the key');
});

test('a full waiting queue is a 503', async () => {
  const r = await postJson('/v1/completions', { prompt: 'Hi', max_tokens: 1 }, { url: full.url });
  assert.equal(r.status, 503);
  assertErrorBody(r.json, 503);
  assert.equal((await fetch(`${full.url}/health`)).status, 200);
});
