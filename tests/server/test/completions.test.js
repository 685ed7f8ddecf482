// /v1/completions through the OpenAI SDK: whole and streamed, n > 1, logprobs, stop strings, seeds, echo.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, golden, goldenText, modelName } from './helpers.js';

const once = golden('once_upon_a_time');

async function streamText(params) {
  const stream = await client.completions.create({ ...params, stream: true });
  const texts = [];
  const finish = [];
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      texts[choice.index] = (texts[choice.index] ?? '') + choice.text;
      if (choice.finish_reason) finish[choice.index] = choice.finish_reason;
    }
  }
  return { texts, finish };
}

test('a greedy completion has the OpenAI shape and the golden text', async () => {
  const r = await client.completions.create({ model: modelName, prompt: once.prompt, max_tokens: 20, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.model, modelName);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].index, 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].text, goldenText(once, 20));
  assert.equal(r.usage.prompt_tokens, once.prompt_token_ids.length);
  assert.equal(r.usage.completion_tokens, 20);
  assert.equal(r.usage.total_tokens, once.prompt_token_ids.length + 20);
});

test('streamed text equals the whole response, with usage when asked', async () => {
  const params = { model: modelName, prompt: once.prompt, max_tokens: 48, temperature: 0 };
  const whole = await client.completions.create(params);
  const stream = await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.text;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(whole.choices[0].text, goldenText(once, 48));
  assert.equal(text, whole.choices[0].text);
  assert.equal(finish, 'length');
  assert.deepEqual(usage, whole.usage);
});

test('n > 1 gives indexed choices, whole and streamed', async () => {
  const params = { model: modelName, prompt: 'The cat', max_tokens: 16, n: 3, temperature: 1.0, seed: 11 };
  const whole = await client.completions.create(params);
  assert.deepEqual(whole.choices.map((c) => c.index), [0, 1, 2]);
  assert.equal(whole.usage.completion_tokens, 48);
  const { texts, finish } = await streamText(params);
  assert.equal(texts.length, 3);
  assert.deepEqual(finish, ['length', 'length', 'length']);
  assert.deepEqual(texts, whole.choices.map((c) => c.text), 'same seed, same samples, streamed or not');
});

test('a list of prompts gives prompt-major choices', async () => {
  const r = await client.completions.create({
    model: modelName, prompt: [once.prompt, 'The little dog'], max_tokens: 8, n: 2, temperature: 0,
  });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3]);
  assert.equal(r.choices[0].text, goldenText(once, 8));
  assert.equal(r.choices[1].text, goldenText(once, 8), 'greedy samples of one prompt agree');
  assert.equal(r.choices[2].text, goldenText(golden('the_little_dog'), 8));
  assert.equal(r.choices[3].text, goldenText(golden('the_little_dog'), 8));
});

test('a seed makes sampling reproducible', async () => {
  const params = { model: modelName, prompt: 'Lily saw', max_tokens: 32, temperature: 1.0, seed: 1234 };
  const a = await client.completions.create(params);
  const b = await client.completions.create(params);
  assert.equal(a.choices[0].text, b.choices[0].text);
  const others = await Promise.all([1, 2, 3].map((seed) => client.completions.create({ ...params, seed })));
  assert.ok(others.some((r) => r.choices[0].text !== a.choices[0].text), 'other seeds sample other text');
});

test('stop strings end the text before the stop string, or with it when asked', async () => {
  const params = { model: modelName, prompt: once.prompt, max_tokens: 40, temperature: 0, stop: ['Lily'] };
  const r = await client.completions.create(params);
  assert.equal(r.choices[0].text, ', there was a little girl named ');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].stop_reason, 'Lily');
  const streamed = await streamText(params);
  assert.equal(streamed.texts[0], ', there was a little girl named ');
  assert.equal(streamed.finish[0], 'stop');
  const kept = await client.completions.create({ ...params, include_stop_str_in_output: true });
  assert.equal(kept.choices[0].text, ', there was a little girl named Lily');
});

test('logprobs have the legacy shape and the greedy token is the most likely', async () => {
  const r = await client.completions.create({
    model: modelName, prompt: once.prompt, max_tokens: 10, temperature: 0, logprobs: 3,
  });
  const { tokens, token_logprobs, top_logprobs, text_offset } = r.choices[0].logprobs;
  assert.equal(tokens.length, 10);
  assert.equal(tokens.join(''), r.choices[0].text);
  assert.equal(text_offset[0], 0);
  for (let i = 0; i < 10; ++i) {
    assert.ok(token_logprobs[i] <= 0);
    const alternatives = Object.values(top_logprobs[i]);
    assert.ok(alternatives.length >= 1 && alternatives.length <= 4);
    // Greedy picks the argmax; logprobs of one softmax agree to float rounding (1e-5 is far above it).
    assert.ok(Math.abs(Math.max(...alternatives) - token_logprobs[i]) < 1e-5);
    if (i > 0) assert.equal(text_offset[i], text_offset[i - 1] + [...tokens[i - 1]].length);
  }
});

test('echo returns the prompt before the completion', async () => {
  const r = await client.completions.create({
    model: modelName, prompt: once.prompt, max_tokens: 5, temperature: 0, echo: true,
  });
  assert.equal(r.choices[0].text, once.prompt + goldenText(once, 5));
  assert.equal(r.usage.completion_tokens, 5);
});
