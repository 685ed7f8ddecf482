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

// Collects a streamed answer with the SDK's stream helper: the raw chunks' tool_calls deltas, the argument
// pieces per call (tool_calls.function.arguments.delta events) and the accumulated final completion.
async function streamCalls(params) {
  const stream = client.chat.completions.stream(params);
  const deltas = [];
  const pieces = {};
  const done = {};
  stream.on('chunk', (chunk) => { for (const c of chunk.choices) deltas.push(...(c.delta.tool_calls ?? [])); });
  stream.on('tool_calls.function.arguments.delta', (e) => { (pieces[e.index] ??= []).push(e.arguments_delta); });
  stream.on('tool_calls.function.arguments.done', (e) => { done[e.index] = e.arguments; });
  const final = await stream.finalChatCompletion();
  return { deltas, pieces, done, final };
}

test('streamed calls come as OpenAI streams them: a header per call, then argument pieces', async () => {
  const params = { model: modelName, messages, tools, tool_choice: 'required', parallel_tool_calls: false, temperature: 0, max_tokens: 120 };
  const { deltas, pieces, done, final } = await streamCalls(params);
  const choice = final.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  const calls = choice.message.tool_calls;
  assert.ok(calls.length >= 1);
  calls.forEach(assertCall);
  calls.forEach((call, i) => {
    // The first delta of call i names it with empty arguments; every later one is only an arguments piece.
    const own = deltas.filter((d) => d.index === i);
    assert.deepEqual(own[0], { index: i, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } });
    for (const d of own.slice(1)) assert.deepEqual(Object.keys(d).sort(), ['function', 'index']);
    assert.ok(own.length > 2, `call ${i} arrived in ${own.length - 1} pieces`);
    assert.equal(own.slice(1).map((d) => d.function.arguments).join(''), call.function.arguments);
    assert.equal(pieces[i].join(''), call.function.arguments);
    assert.equal(done[i], call.function.arguments);
  });
  // Indexes only grow: call i + 1 starts after call i's last piece.
  const order = deltas.map((d) => d.index);
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  // The whole answer has the same calls.
  const whole = await client.chat.completions.create(params);
  assert.deepEqual(whole.choices[0].message.tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
    calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]));
});

test('a named function streams its arguments in pieces', async () => {
  const { deltas, final } = await streamCalls({
    model: modelName, messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 1, seed: 2, max_tokens: 60,
  });
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  const [call] = final.choices[0].message.tool_calls;
  assertCall(call);
  assert.ok(deltas.length > 2);
  assert.equal(deltas.slice(1).map((d) => d.function.arguments).join(''), call.function.arguments);
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
