// Compares our tokenize/detokenize output with reference.js output for one tokenizer:
//   node compare.js NAME STRINGS REFERENCE OURS_ADD OURS_NO DECODE_NO DECODE_ADD DECODE_ADD_SKIP
// Prints "NAME: K mismatching strings of N" and the first few differences; exits 1 when K > 0.
'use strict';
const fs = require('fs');

const readJsonl = (path) => fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

const [name, ...paths] = process.argv.slice(2);
const [strings, reference, oursAdd, oursNo, decodeNo, decodeAdd, decodeAddSkip] = paths.map(readJsonl);
let mismatches = 0;
const shown = [];
for (let i = 0; i < strings.length; ++i) {
  const ref = reference[i];
  const checks = [
    ['ids_add_special', oursAdd[i] && oursAdd[i].ids, ref.ids_add_special],
    ['ids_no_special', oursNo[i] && oursNo[i].ids, ref.ids_no_special],
    ['tokens_no_special', oursNo[i] && oursNo[i].tokens, ref.tokens_no_special],
    ['decode_ids_no_special', decodeNo[i] && decodeNo[i].text, ref.decode_ids_no_special],
    ['decode_ids_add_special', decodeAdd[i] && decodeAdd[i].text, ref.decode_ids_add_special],
    ['decode_ids_add_special_skip_special', decodeAddSkip[i] && decodeAddSkip[i].text,
      ref.decode_ids_add_special_skip_special],
  ];
  const failed = checks.filter(([, ours, theirs]) => !same(ours, theirs));
  if (failed.length === 0) continue;
  ++mismatches;
  if (shown.length < 5) {
    shown.push(`  ${strings[i].id} ${JSON.stringify(strings[i].text)}\n` +
      failed.map(([field, ours, theirs]) => `    ${field}: ours ${JSON.stringify(ours)}\n` +
        `    ${' '.repeat(field.length)}  hf   ${JSON.stringify(theirs)}`).join('\n'));
  }
}
console.log(`${name}: ${mismatches} mismatching strings of ${strings.length}`);
if (shown.length > 0) console.log(shown.join('\n'));
process.exit(mismatches > 0 ? 1 : 0);
