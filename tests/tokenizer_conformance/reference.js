// Reference ids and decodes from Hugging Face tokenizers (npm 0.23.2):
//   node reference.js TOKENIZER_JSON < strings.jsonl > reference.jsonl
// One line per input: {id, ids_add_special, ids_no_special, tokens_no_special, decode_ids_no_special,
// decode_ids_add_special, decode_ids_add_special_skip_special} (the fields of tests/fixtures/tokenizers/*/expected.jsonl).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const tokenizer = Tokenizer.fromFile(process.argv[2]);
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const { id, text } = JSON.parse(line);
    const withSpecial = await tokenizer.encode(text, null, { addSpecialTokens: true });
    const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const idsAdd = withSpecial.getIds();
    const idsNo = plain.getIds();
    out.push(JSON.stringify({
      id,
      ids_add_special: idsAdd,
      ids_no_special: idsNo,
      tokens_no_special: plain.getTokens(),
      decode_ids_no_special: await tokenizer.decode(idsNo, false),
      decode_ids_add_special: await tokenizer.decode(idsAdd, false),
      decode_ids_add_special_skip_special: await tokenizer.decode(idsAdd, true),
    }));
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
