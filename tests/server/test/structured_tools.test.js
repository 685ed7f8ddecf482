// Tools through the OpenAI SDK: tool_choice required, a named function, none and auto (a second server with
// --enable-auto-tool-choice --tool-call-parser hermes), streamed and not, parallel calls, and the 400s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { client, makeClient, modelName, startServer } from './helpers.js';

const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather of a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } },
      required: ['city', 'unit'], additionalProperties: false } } },
  { type: 'function', function: { name: 'get_time',
    parameters: { type: 'object', properties: { zone: { type: 'integer', minimum: -12, maximum: 12 } }, required: ['zone'] } } },
];

function assertCall(call) {
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === 'get_weather') {
    assert.deepEqual(Object.keys(args), ['city', 'unit']);
    assert.ok(typeof args.city === 'string' && args.city.length <= 12 && ['c', 'f'].includes(args.unit));
  } else {
    assert.equal(call.function.name, 'get_time');
    assert.ok(Number.isInteger(args.zone) && args.zone >= -12 && args.zone <= 12);
  }
}

test('tool_choice required answers with calls that parse and validate', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, tools, tool_choice: 'required', parallel_tool_calls: false, temperature: 1, seed: 4, n: 3, max_tokens: 200,
  });
  for (const c of r.choices) {
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.content, null);
    assert.ok(c.message.tool_calls.length >= 1);
    c.message.tool_calls.forEach(assertCall);
  }
});

test('parallel calls: several calls in one answer, each valid', async () => {
  // stories260K rarely closes the array, so the answer is cut at max_tokens: its complete calls are checked.
  const r = await client.chat.completions.create({
    model: modelName, messages, tools, tool_choice: 'required', temperature: 1, seed: 4, max_tokens: 120,
  });
  const text = r.choices[0].message.content;
  assert.equal(r.choices[0].finish_reason, 'length');
  const complete = text.slice(1, text.lastIndexOf('},{') + 1);
  const calls = JSON.parse(`[${complete}]`);
  assert.ok(calls.length >= 2, text);
  for (const c of calls) assertCall({ id: 'call_x', type: 'function', function: { name: c.name, arguments: JSON.stringify(c.parameters) } });
});

test('parallel_tool_calls false gives exactly one call', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, tools, tool_choice: 'required', parallel_tool_calls: false, temperature: 1, seed: 9, max_tokens: 120,
  });
  assert.equal(r.choices[0].message.tool_calls.length, 1);
  assertCall(r.choices[0].message.tool_calls[0]);
});

test('a named function is called with arguments that follow its schema', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, tools, tool_choice: { type: 'function', function: { name: 'get_time' } }, temperature: 0, max_tokens: 40,
  });
  const [call] = r.choices[0].message.tool_calls;
  assert.equal(call.function.name, 'get_time');
  assertCall(call);
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
});

test('a streamed required answer carries the same calls as the whole one', async () => {
  const params = { model: modelName, messages, tools, tool_choice: 'required', parallel_tool_calls: false, temperature: 0, max_tokens: 120 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      for (const t of c.delta.tool_calls ?? []) calls.push(t);
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(finish, 'tool_calls');
  assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]),
    whole.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]));
});

test('tool_choice none answers with plain content', async () => {
  const r = await client.chat.completions.create({ model: modelName, messages, tools, tool_choice: 'none', temperature: 0, max_tokens: 8 });
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].message.tool_calls, undefined);
});

test('auto without a parser, and an unknown named function, are 400s', async () => {
  await assert.rejects(client.chat.completions.create({ model: modelName, messages, tools, max_tokens: 8 }),
    (e) => e instanceof OpenAI.BadRequestError && e.message.includes('--enable-auto-tool-choice'));
  await assert.rejects(client.chat.completions.create({
    model: modelName, messages, tools, max_tokens: 8, tool_choice: { type: 'function', function: { name: 'nope' } } }),
  (e) => e instanceof OpenAI.BadRequestError && e.message.includes("'nope'"));
});

let auto;
before(async () => { auto = await startServer(['--enable-auto-tool-choice', '--tool-call-parser', 'hermes']); });
after(async () => { assert.equal((await auto.stop()).code, 0); });

test('auto with the hermes parser answers (text from this model) without inventing calls', async () => {
  const r = await makeClient(auto.url).chat.completions.create({ model: modelName, messages, tools, temperature: 0, max_tokens: 12 });
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
});
