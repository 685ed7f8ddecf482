// Deterministic conformance inputs: node generate_strings.js TOKENIZER_JSON COUNT SEED > strings.jsonl
// Writes COUNT lines {"id", "category", "text"}: random Unicode mixes (also unassigned code points), whitespace
// runs, digits, code, emoji
// sequences (ZWJ, skin tones, flags, keycaps), special-token look-alikes (including fragments of the tokenizer's
// own added tokens), and mixtures of those. The same arguments always give the same file.
'use strict';
const fs = require('fs');

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const [tokenizerPath, countArg, seedArg] = process.argv.slice(2);
if (!tokenizerPath) {
  console.error('usage: node generate_strings.js TOKENIZER_JSON [COUNT] [SEED]');
  process.exit(2);
}
const count = Number(countArg || 2000);
const rand = mulberry32(Number(seedArg || 1234));
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const repeat = (n, f) => Array.from({ length: n }, f).join('');

// Code point ranges of assigned characters in long-established blocks (Unicode <= 13), by script or kind.
const RANGES = [
  [0x20, 0x7e], [0xa0, 0xff], [0x100, 0x17f], [0x180, 0x24f], [0x250, 0x2af], [0x300, 0x36f], [0x391, 0x3a9],
  [0x3b1, 0x3c9], [0x400, 0x44f], [0x5d0, 0x5ea], [0x620, 0x64a], [0x660, 0x669], [0x905, 0x939], [0x93e, 0x94d],
  [0x966, 0x96f], [0xe01, 0xe3a], [0xe40, 0xe4e], [0x1100, 0x1112], [0x1e00, 0x1eff], [0x2000, 0x206f],
  [0x2070, 0x209c], [0x20a0, 0x20bf], [0x2100, 0x214f], [0x2150, 0x218b], [0x2190, 0x21ff], [0x2200, 0x22ff],
  [0x2460, 0x24ff], [0x2500, 0x257f], [0x25a0, 0x25ff], [0x2600, 0x26ff], [0x2700, 0x27bf], [0x3000, 0x303f],
  [0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5], [0xac00, 0xd7a3], [0xf900, 0xfa6d], [0xfb00, 0xfb06],
  [0xfe30, 0xfe4f], [0xff01, 0xff5e], [0xff61, 0xff9f], [0x1d400, 0x1d6a5], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f],
  [0x1f680, 0x1f6c5], [0x1f900, 0x1f9ff], [0x20000, 0x2a6d6], [0xe000, 0xe0ff],
];
// Any code point of planes 0-3 except surrogates, assigned or not.
const anyCodePoint = () => {
  const cp = rand() < 0.6 ? int(0x10000) : 0x10000 + int(0x30000);
  return cp >= 0xd800 && cp <= 0xdfff ? String.fromCodePoint(cp + 0x800) : String.fromCodePoint(cp);
};
const randomChar = () => {
  const [lo, hi] = pick(RANGES);
  return String.fromCodePoint(lo + int(hi - lo + 1));
};

const WORDS = ['the', 'The', 'hello', 'world', 'Once', 'upon', 'a', 'time', "don't", "it's", "we'll", "I'M", 'naïve',
  'café', 'Straße', 'résumé', 'über', 'Ελλάδα', 'москва', 'שלום', 'مرحبا', 'नमस्ते', 'สวัสดี', '日本語', '中文',
  '한국어', 'Tiếng', 'Việt', 'ǅemal', 'ﬁne', 'ℌ𝔢𝔩𝔩𝔬', 'x²', '½', 'Ⅻ', 'e\u0301', 'n\u0303o', 'A\u030a'];
const SPACES = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r', '\u00a0', '\u3000', '\u2028', '\u2029', '\u200b',
  '\ufeff', '\u2009', '\u202f', '\u0085', '\u000b', '\u000c', '\u1680', '\u205f'];
const EMOJI = ['😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '🇯🇵', '1️⃣', '#️⃣', '❤️', '🧑🏿‍💻', '👩‍❤️‍💋‍👨',
  '🤷‍♀️', '🦄', '☺︎', '✌🏻', '🫠', '🏴‍☠️', '\u200d', '\ufe0f'];
const SPECIAL_LIKE = ['<s>', '</s>', '<unk>', '<pad>', '<|endoftext|>', '<|endof', 'text|>', '<|im_start|>',
  '<|im_end|>', '<|user|>', '<|assistant|>', '<|end|>', '[INST]', '[/INST]', '<<SYS>>', '<0x0A>', '<0xFF>', '▁',
  '▁▁', 'Ġ', 'Ċ', '<fim_prefix>', '<fim_middle>', '<|EOT|>', '<｜begin▁of▁sentence｜>', '>>TITLE<<', '<', '>', '|',
  '<s', 's>', '</', '<|', '|>'];
const CODE = [
  'def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}', 'if x == None:\n  pass',
  'const y = await fetch(`/api/${id}`);', '#include <stdio.h>\nint main() { printf("%d\\n", 42); }',
  'SELECT * FROM users WHERE id = 7;', '<div class="a">\n  <p>Hi &amp; bye</p>\n</div>', '{"key": [1, 2.5, null]}',
  'fn main() -> Result<(), Box<dyn Error>> { Ok(()) }', 'x = [i**2 for i in range(10)]  # squares',
  '    \n        return self.__dict__', '$ ls -la | grep "\\.txt$"', 'a+=1;b-=2;c*=3;d/=4;e%=5',
  '/* comment */ // another', 'λx.x', '::std::vector<int>{}', '@decorator\nclass A(B):', '\\n\\t\\\\'];

const addedTokens = (() => {
  try {
    const json = JSON.parse(fs.readFileSync(tokenizerPath, 'utf8'));
    return (json.added_tokens || []).map((t) => t.content).filter((c) => c.length > 0);
  } catch (e) {
    return [];
  }
})();

function specialLike() {
  const pool = addedTokens.length > 0 && rand() < 0.5 ? addedTokens : SPECIAL_LIKE;
  let s = pick(pool);
  const r = rand();
  if (r < 0.2 && s.length > 2) s = s.slice(0, 1 + int(s.length - 1));
  else if (r < 0.35 && s.length > 2) s = s.slice(int(s.length - 1));
  else if (r < 0.45) s = s.toUpperCase();
  return s;
}

function digits() {
  const n = 1 + int(14);
  let s = repeat(n, () => String(int(10)));
  const r = rand();
  if (r < 0.2) s = s.slice(0, 1 + int(s.length)) + '.' + repeat(1 + int(4), () => String(int(10)));
  else if (r < 0.3) s = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  else if (r < 0.4) s = s.replace(/[0-9]/g, (d) => String.fromCodePoint(0x660 + Number(d)));
  else if (r < 0.5) s = s.replace(/[0-9]/g, (d) => String.fromCodePoint(0xff10 + Number(d)));
  else if (r < 0.55) s = s + pick(['²', '³', '¹', '¼', '½', '⁴', '₂']);
  return s;
}

const FRAGMENTS = {
  unicode: () => repeat(1 + int(12), randomChar),
  any_code_point: () => repeat(1 + int(8), () => (rand() < 0.8 ? anyCodePoint() : pick(SPACES))),
  word: () => pick(WORDS),
  whitespace: () => repeat(1 + int(4), () => pick(SPACES)),
  digits,
  code: () => pick(CODE),
  emoji: () => repeat(1 + int(4), () => pick(EMOJI)),
  special_like: specialLike,
};
const NAMES = Object.keys(FRAGMENTS);

function makeString(category) {
  const parts = [];
  const n = category === 'mix' ? 2 + int(10) : 1 + int(5);
  for (let i = 0; i < n; ++i) {
    const kind = category === 'mix' || rand() < 0.25 ? pick(NAMES) : category;
    parts.push(FRAGMENTS[kind]());
    if (rand() < 0.5) parts.push(rand() < 0.8 ? ' ' : pick(SPACES));
  }
  let s = parts.join('');
  if (rand() < 0.1) s = ' ' + s;
  if (rand() < 0.03) s = s.repeat(1 + int(20));
  return s;
}

const CATEGORIES = [...NAMES, 'mix', 'mix'];
const out = [];
for (let i = 0; i < count; ++i) {
  const category = CATEGORIES[i % CATEGORIES.length];
  out.push(JSON.stringify({ id: `g${String(i).padStart(5, '0')}`, category, text: makeString(category) }));
}
process.stdout.write(out.join('\n') + '\n');
