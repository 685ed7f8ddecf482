// Every finished structured output validates: JSON against its schema with ajv (2020-12 + formats), regex and
// choice outputs as whole matches. Reads the samples run.sh wrote to $STRUCTURED_SAMPLES_DIR.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const dir = process.env.STRUCTURED_SAMPLES_DIR;
const schemas = JSON.parse(readFileSync(new URL('../schemas.json', import.meta.url)));
const patterns = JSON.parse(readFileSync(new URL('../patterns.json', import.meta.url)));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const validators = schemas.map((s) => ajv.compile(s));
const lines = (file) => readFileSync(`${dir}/${file}`, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));

function checkJson(schemaIndex, text, where) {
  let value;
  assert.doesNotThrow(() => { value = JSON.parse(text); }, `${where}: schema ${schemaIndex} output is not JSON: ${text}`);
  const ok = validators[schemaIndex](value);
  assert.ok(ok, `${where}: schema ${schemaIndex} output ${text} fails: ${ajv.errorsText(validators[schemaIndex].errors)}`);
}

test('the corpus has at least 100 schemas', () => {
  assert.ok(schemas.length >= 100, `${schemas.length} schemas`);
});

test('random-logit samples over four tokenizers validate', () => {
  let finished = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith('random-'))) {
    for (const s of lines(file)) {
      assert.equal(s.error, undefined, `${file}: schema ${s.schema} does not compile: ${s.error}`);
      if (!s.finished) continue;
      checkJson(s.schema, s.text, file);
      ++finished;
    }
  }
  console.log(`random-logit samples: ${finished} finished and valid`);
  assert.ok(finished >= 1000, `only ${finished} samples finished`);
});

for (const weights of ['safetensors', 'dummy']) {
  test(`stories260K (${weights} weights) samples validate`, () => {
    const outputs = lines(`stories-${weights}.jsonl`);
    assert.equal(outputs.length, schemas.length + patterns.regexes.length + patterns.choices.length);
    let finished = 0;
    outputs.forEach((out, i) => {
      for (const c of out.outputs) {
        if (c.finish_reason !== 'stop') continue;
        ++finished;
        if (i < schemas.length) {
          checkJson(i, c.text, weights);
        } else if (i < schemas.length + patterns.regexes.length) {
          const re = patterns.regexes[i - schemas.length];
          assert.match(c.text, new RegExp(`^(?:${re})$`, 'u'), `regex ${re}`);
        } else {
          assert.ok(patterns.choices[i - schemas.length - patterns.regexes.length].includes(c.text), `choice ${c.text}`);
        }
      }
    });
    console.log(`stories260K ${weights}: ${finished} finished and valid`);
    assert.ok(finished >= 600, `only ${finished} outputs finished`);
  });
}
