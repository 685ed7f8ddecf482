// The `generate --prompts-file` lines of run.sh: every schema of schemas.json, then the regexes and choices of
// patterns.json, each sampled 8 times at temperature 1. Printed to stdout.
import { readFileSync } from 'node:fs';

const schemas = JSON.parse(readFileSync(new URL('./schemas.json', import.meta.url)));
const patterns = JSON.parse(readFileSync(new URL('./patterns.json', import.meta.url)));
const base = { prompt: 'Once upon a time', n: 8, temperature: 1, max_tokens: 256 };
for (const schema of schemas) console.log(JSON.stringify({ ...base, guided_json: schema }));
for (const regex of patterns.regexes) console.log(JSON.stringify({ ...base, guided_regex: regex }));
for (const choice of patterns.choices) console.log(JSON.stringify({ ...base, guided_choice: choice }));
