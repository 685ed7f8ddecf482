// Greedy completions of the stories260K goldens (llama2.c run.c). With Hugging Face semantics BOS is not a stop
// token and the model never samples EOS in these 128 steps, so the 128 greedy ids are
// greedy_token_ids_ignoring_bos_stop (see models/stories260K/golden/README.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, golden, goldenNames, modelName } from './helpers.js';

for (const name of goldenNames) {
  const g = golden(name);
  const hasBos = g.greedy_token_ids_ignoring_bos_stop.includes(1);

  test(`greedy completion of ${name} equals the golden`, async () => {
    const params = {
      model: modelName, prompt: g.prompt, max_tokens: 128, temperature: 0, ignore_eos: true, return_token_ids: true,
    };
    const r = await client.completions.create(params);
    assert.deepEqual(r.choices[0].prompt_token_ids, g.prompt_token_ids);
    assert.deepEqual(r.choices[0].token_ids, g.greedy_token_ids_ignoring_bos_stop);
    assert.equal(r.choices[0].finish_reason, 'length');
    // The golden text decodes llama2.c-style; without a BOS inside, that is exactly Hugging Face's text.
    if (!hasBos) assert.equal(r.choices[0].text, g.greedy_text_ignoring_bos_stop);

    const stream = await client.completions.create({ ...params, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices.map((c) => c.text).join('');
    assert.equal(text, r.choices[0].text, 'streamed text equals the whole response');

    const byIds = await client.completions.create({ ...params, prompt: g.prompt_token_ids });
    assert.deepEqual(byIds.choices[0].token_ids, g.greedy_token_ids_ignoring_bos_stop);
  });
}
