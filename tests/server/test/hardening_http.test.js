// Issue 21 against the server run.sh started: framing, pipelining, malformed heads, methods, and the request
// fields that were accepted with 200 although wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseUrl, client, modelName, postJson } from './helpers.js';
import { rawExchange, statusLines } from './hardening_util.js';

test('pipelined requests are all answered, in order', async () => {
  const text = await rawExchange(baseUrl,
    'GET /version HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' +
    'GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  assert.ok(text.indexOf('"version"') < text.indexOf('"object":"list"'), text);
});

test('Content-Length -1 is a 400 and a POST without Content-Length a 411, answered before any body', async () => {
  const negative = await rawExchange(baseUrl, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n');
  assert.deepEqual(statusLines(negative), ['HTTP/1.1 400 Bad Request']);
  assert.match(negative, /Content-Length must be a non-negative integer, got \\"-1\\"/);
  const missing = await rawExchange(baseUrl, 'POST /v1/completions HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(statusLines(missing), ['HTTP/1.1 411 Length Required']);
  assert.match(missing, /"code":411/);
});

test('a header line without a colon and two Authorization headers are 400s', async () => {
  const noColon = await rawExchange(baseUrl, 'GET /health HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n');
  assert.deepEqual(statusLines(noColon), ['HTTP/1.1 400 Bad Request']);
  assert.match(noColon, /Malformed header line/);
  const twoKeys = await rawExchange(baseUrl,
    'GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n');
  assert.deepEqual(statusLines(twoKeys), ['HTTP/1.1 400 Bad Request']);
  assert.match(twoKeys, /only one Authorization header/);
});

test('a known path with the wrong method is a 405 with Allow', async () => {
  const r = await fetch(`${baseUrl}/v1/completions`);
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('allow'), 'POST');
  assert.equal((await r.json()).error.code, 405);
  const d = await fetch(`${baseUrl}/v1/models`, { method: 'DELETE' });
  assert.equal(d.status, 405);
  assert.equal(d.headers.get('allow'), 'GET');
  assert.equal((await fetch(`${baseUrl}/nowhere`)).status, 404);
});

test('a NUL byte after the JSON body is a 400', async () => {
  const r = await postJson('/v1/completions', '{"prompt": "Hi", "max_tokens": 1}\u0000junk');
  assert.equal(r.status, 400);
  assert.equal(r.json.error.message, 'The request body is not acceptable JSON: a NUL byte at byte 33');
});

test('JSON nested deeper than 64 levels is a 400 naming the limit', async () => {
  const r = await postJson('/tokenize', '['.repeat(512 * 1024));
  assert.equal(r.status, 400);
  assert.equal(r.json.error.message,
    'The request body is not acceptable JSON: nesting deeper than 64 levels at byte 64');
});

test('best_of must be an integer >= n', async () => {
  for (const [best_of, n, message] of [
    ['two', 1, 'best_of must be an integer, got "two"'],
    [1, 2, 'best_of must be greater than or equal to n, got n=2 and best_of=1'],
    [0, 1, 'best_of must be at least 1, got 0'],
  ]) {
    const r = await postJson('/v1/completions', { model: modelName, prompt: 'Hi', n, best_of });
    assert.equal(r.status, 400, JSON.stringify(best_of));
    assert.equal(r.json.error.param, 'best_of');
    assert.equal(r.json.error.message, message);
  }
  const ok = await postJson('/v1/completions', { model: modelName, prompt: 'Hi', n: 2, best_of: 2, max_tokens: 1 });
  assert.equal(ok.status, 200);
});

test('logit_bias of 1e308 acts as the clamp of 100', async () => {
  const request = (bias) => client.completions.create({ model: modelName, prompt: 'Once', max_tokens: 4,
    temperature: 0, logit_bias: { 300: bias }, return_token_ids: true });
  const huge = await request(1e308);
  const hundred = await request(100);
  assert.deepEqual(huge.choices[0].token_ids, [300, 300, 300, 300]);
  assert.deepEqual(huge.choices[0].token_ids, hundred.choices[0].token_ids);
  const negative = await request(-1e308);
  assert.ok(!negative.choices[0].token_ids.includes(300));
});

test('chat echo must be a boolean; messages[0].role of the wrong type names the message', async () => {
  const messages = [{ role: 'user', content: 'Hi' }];
  const wrongType = await postJson('/v1/chat/completions', { model: modelName, messages, echo: 'yes' });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.json.error.param, 'echo');
  const echo = await postJson('/v1/chat/completions', { model: modelName, messages, echo: true });
  assert.equal(echo.status, 400);
  assert.equal(echo.json.error.message, 'echo is not supported yet for chat completions');
  const role = await postJson('/v1/chat/completions', { model: modelName, messages: [{ role: 5, content: 'Hi' }] });
  assert.equal(role.status, 400);
  assert.equal(role.json.error.param, 'messages[0].role');
  assert.equal(role.json.error.message, 'messages[0].role must be a string, got 5');
});
