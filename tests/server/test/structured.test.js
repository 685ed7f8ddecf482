// Structured outputs through the OpenAI SDK: response_format (json_object, json_schema), vLLM's guided_* fields,
// streaming and n > 1, and the 400s for what cannot be enforced (run.sh serves stories260K).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { baseUrl, client, modelName } from './helpers.js';

const messages = [{ role: 'user', content: 'Tell me about a cat.' }];
const person = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 10 },
    age: { type: 'integer', minimum: 1, maximum: 99 },
    pets: { type: 'array', items: { enum: ['cat', 'dog'] }, maxItems: 2 },
  },
  required: ['name', 'age', 'pets'],
  additionalProperties: false,
};

function assertPerson(text) {
  const value = JSON.parse(text);
  // Properties come in the schema's order, as OpenAI and vLLM emit them.
  assert.deepEqual(Object.keys(value), ['name', 'age', 'pets']);
  assert.equal(typeof value.name, 'string');
  assert.ok(value.name.length <= 10);
  assert.ok(Number.isInteger(value.age) && value.age >= 1 && value.age <= 99);
  assert.ok(value.pets.length <= 2 && value.pets.every((p) => p === 'cat' || p === 'dog'));
}

test('response_format json_schema yields JSON that follows the schema', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, temperature: 0, max_tokens: 120,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person, strict: true } },
  });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assertPerson(r.choices[0].message.content);
});

test('properties keep the schema order end to end, not alphabetical', async () => {
  const schema = {
    type: 'object',
    properties: { zeta: { type: 'integer' }, alpha: { enum: ['a', 'b'] }, mid: { type: 'boolean' } },
    required: ['zeta', 'alpha', 'mid'],
    additionalProperties: false,
  };
  const chat = await client.chat.completions.create({
    model: modelName, messages, temperature: 1, seed: 3, max_tokens: 60,
    response_format: { type: 'json_schema', json_schema: { name: 'order', schema, strict: true } },
  });
  const completion = await client.completions.create({
    model: modelName, prompt: 'Once upon a time', temperature: 1, seed: 3, max_tokens: 60, guided_json: schema,
  });
  for (const text of [chat.choices[0].message.content, completion.choices[0].text]) {
    assert.deepEqual(Object.keys(JSON.parse(text)), ['zeta', 'alpha', 'mid'], text);
  }
});

test('response_format json_object yields a JSON object', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, temperature: 0, max_tokens: 200, response_format: { type: 'json_object' },
  });
  const text = r.choices[0].message.content;
  assert.ok(text.startsWith('{'), text);
  if (r.choices[0].finish_reason === 'stop') assert.equal(typeof JSON.parse(text), 'object');
});

test('n samples at temperature 1 all follow the schema', async () => {
  const r = await client.completions.create({
    model: modelName, prompt: 'Once upon a time', n: 4, seed: 5, temperature: 1, max_tokens: 120, guided_json: person,
  });
  assert.equal(r.choices.length, 4);
  for (const c of r.choices) {
    assert.equal(c.finish_reason, 'stop');
    assertPerson(c.text);
  }
});

test('a streamed constrained answer equals the whole one', async () => {
  const params = { model: modelName, messages, temperature: 0, max_tokens: 120,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person } } };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'stop');
});

test('guided_choice and guided_regex constrain completions', async () => {
  const choice = await client.completions.create({
    model: modelName, prompt: 'The cat was', temperature: 1, seed: 2, n: 3, max_tokens: 10,
    guided_choice: ['happy', 'sad', 'very sleepy'],
  });
  for (const c of choice.choices) {
    assert.ok(['happy', 'sad', 'very sleepy'].includes(c.text), c.text);
    assert.equal(c.finish_reason, 'stop');
  }
  const regex = await client.completions.create({
    model: modelName, prompt: 'Lily was', temperature: 1, seed: 3, max_tokens: 20, guided_regex: '[a-z]{2,6} (and|or) [a-z]{2,6}',
  });
  assert.match(regex.choices[0].text, /^[a-z]{2,6} (and|or) [a-z]{2,6}$/);
});

test('guided_grammar constrains to a GBNF grammar', async () => {
  const grammar = 'root ::= answer " because " reason\nanswer ::= "yes" | "no"\nreason ::= [a-z]{3,8}\n';
  const r = await client.completions.create({
    model: modelName, prompt: 'Is it?', temperature: 1, seed: 2, n: 3, max_tokens: 30, guided_grammar: grammar,
  });
  for (const c of r.choices) {
    assert.match(c.text, /^(yes|no) because [a-z]{3,8}$/);
    assert.equal(c.finish_reason, 'stop');
  }
});

async function post(body) {
  const r = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelName, messages, max_tokens: 8, ...body }),
  });
  return { status: r.status, json: await r.json() };
}

for (const [what, body, message] of [
  ['an unsupported keyword', { guided_json: { type: 'array', uniqueItems: true } }, "the JSON Schema keyword 'uniqueItems' is not supported"],
  ['an invalid schema type', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'strin' } } } },
    '\'type\' "strin" is not a JSON Schema type'],
  ['a dangling $ref', { guided_json: { $ref: '#/$defs/nope' } }, "$ref '#/$defs/nope' does not resolve"],
  ['an unsupported regex', { guided_regex: '(a)\\1' }, 'a backreference'],
  ['two constraints', { guided_regex: 'a', guided_choice: ['b'] }, 'only one structured output may be given'],
  ['a grammar without root', { guided_grammar: 'start ::= "a"' }, "grammar: there is no 'root' rule"],
]) {
  test(`${what} is a 400 naming the problem, and the server keeps serving`, async () => {
    const r = await post(body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.ok(r.json.error.message.includes(message), r.json.error.message);
    const ok = await client.chat.completions.create({ model: modelName, messages, max_tokens: 4 });
    assert.equal(ok.choices.length, 1);
  });
}

test('the SDK reports the 400 as a BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: modelName, messages, guided_json: { type: 'object', minProperties: 1 } }),
    (e) => e instanceof OpenAI.BadRequestError && e.message.includes('minProperties'));
});
