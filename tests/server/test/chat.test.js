// /v1/chat/completions through the OpenAI SDK (run.sh serves stories260K with the TinyLlama chat template).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, modelName } from './helpers.js';

const messages = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: [{ type: 'text', text: 'Tell me about a dog.' }] },
];

test('a chat completion answers an assistant message', async () => {
  const r = await client.chat.completions.create({ model: modelName, messages, max_tokens: 24, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  // stories260K's greedy answer to the TinyLlama-templated conversation (63 prompt tokens), measured.
  assert.equal(r.choices[0].message.content, '"Here," said the dog.\nThe dog replakesed');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.deepEqual(r.usage, { prompt_tokens: 63, completion_tokens: 24, total_tokens: 87 });
});

test('the stream starts with the role and its text equals the whole answer', async () => {
  const params = { model: modelName, messages, max_completion_tokens: 40, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0].object, 'chat.completion.chunk');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const text = chunks.flatMap((c) => c.choices).map((c) => c.delta.content ?? '').join('');
  assert.equal(text, whole.choices[0].message.content);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, whole.usage);
  const finishes = chunks.flatMap((c) => c.choices).filter((c) => c.finish_reason);
  assert.equal(finishes.length, 1);
  assert.equal(finishes[0].finish_reason, whole.choices[0].finish_reason);
});

test('n > 1 streams every choice under its index', async () => {
  const stream = await client.chat.completions.create({
    model: modelName, messages, max_tokens: 12, n: 2, temperature: 0.8, seed: 3, stream: true,
  });
  const roles = new Set();
  const finished = new Set();
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      assert.ok(choice.index === 0 || choice.index === 1);
      if (choice.delta.role) roles.add(choice.index);
      if (choice.finish_reason) finished.add(choice.index);
    }
  }
  assert.deepEqual([...roles].sort(), [0, 1]);
  assert.deepEqual([...finished].sort(), [0, 1]);
});

test('chat logprobs have the chat shape', async () => {
  const r = await client.chat.completions.create({
    model: modelName, messages, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const entry of content) {
    assert.equal(typeof entry.token, 'string');
    assert.ok(entry.logprob <= 0);
    assert.deepEqual(entry.bytes, [...Buffer.from(entry.token, 'utf8')]);
    assert.equal(entry.top_logprobs.length, 2);
    assert.ok(Math.abs(entry.top_logprobs[0].logprob - entry.logprob) < 1e-5, 'greedy takes the top token');
  }
});

test('a seed makes chat sampling reproducible', async () => {
  const params = { model: modelName, messages, max_tokens: 24, temperature: 1.0, seed: 99 };
  const a = await client.chat.completions.create(params);
  const b = await client.chat.completions.create(params);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});
