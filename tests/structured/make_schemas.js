// Writes schemas.json: the corpus of JSON Schemas the validity test samples from. Every keyword the constraint
// supports appears in several schemas; strings are mostly bounded so that random sampling finishes.
//   node make_schemas.js > schemas.json
const s = (maxLength = 8, extra = {}) => ({ type: 'string', maxLength, ...extra });
const schemas = [];
const add = (x) => schemas.push(x);

// Scalars, type lists and nullable spellings.
for (const t of ['boolean', 'null', 'integer', 'number']) add({ type: t });
add({ type: 'string', maxLength: 5 });
add({ type: ['string', 'null'], maxLength: 4 });
add({ type: ['integer', 'boolean'] });
add({ type: ['number', 'integer', 'null'] });
add({ type: 'integer', nullable: true });
add({ type: 'string', maxLength: 3, nullable: true });
add({ anyOf: [{ type: 'integer' }, { type: 'null' }] });

// Strings: lengths, patterns, formats.
add({ type: 'string', minLength: 1, maxLength: 1 });
add({ type: 'string', minLength: 3, maxLength: 6 });
add({ type: 'string', minLength: 0, maxLength: 0 });
add({ type: 'string', minLength: 2, maxLength: 10 });
add({ type: 'string', maxLength: 20 });
add({ type: 'string', pattern: '^[a-z]{2,5}$' });
add({ type: 'string', pattern: '^\\d{3}-\\d{4}$' });
add({ type: 'string', pattern: '^(cat|dog|bird)s?$' });
add({ type: 'string', pattern: '^[A-Z][a-z]*( [A-Z][a-z]*){0,2}$' });
add({ type: 'string', pattern: '^#[0-9a-fA-F]{6}$' });
add({ type: 'string', pattern: '^(?:[01]?\\d|2[0-3]):[0-5]\\d$' });
add({ type: 'string', pattern: '^v\\d+\\.\\d+(\\.\\d+)?$' });
add({ type: 'string', pattern: '^[^\\s]{1,4}$' });
for (const f of ['date', 'time', 'date-time', 'email', 'uuid', 'ipv4', 'uri']) add({ type: 'string', format: f });

// Integer and number bounds.
add({ type: 'integer', minimum: 0 });
add({ type: 'integer', maximum: -5 });
add({ type: 'integer', minimum: -10, maximum: 10 });
add({ type: 'integer', minimum: 100, maximum: 999 });
add({ type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 5 });
add({ type: 'integer', minimum: 1.5, maximum: 7.5 });
add({ type: 'number', minimum: 0, maximum: 1 });
add({ type: 'number', exclusiveMinimum: -1, exclusiveMaximum: 1 });
add({ type: 'number', minimum: -100 });
add({ type: 'number', maximum: 3.5 });
add({ type: 'number', minimum: 10, exclusiveMaximum: 20 });
add({ type: 'integer', minimum: -2147483648, maximum: 2147483647 });

// enum and const.
add({ enum: ['red', 'green', 'blue'] });
add({ enum: [1, 2.5, 'x', null, true, [1, 2], { a: 1 }] });
add({ const: 'fixed' });
add({ const: { k: [1, 'two', null] } });
add({ type: 'string', enum: ['a', 'b'] });
add({ type: 'object', properties: { kind: { const: 'point' }, x: { type: 'integer' } }, required: ['kind', 'x'] });

// Objects.
add({ type: 'object', properties: { name: s(10), age: { type: 'integer', minimum: 0, maximum: 150 } }, required: ['name', 'age'] });
add({ type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'null' }, c: { type: 'integer' } } });
add({ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false });
add({ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: true });
add({ type: 'object', properties: { id: s(4) }, required: ['id'], additionalProperties: { type: 'integer', minimum: 0, maximum: 9 } });
add({ type: 'object', additionalProperties: { type: 'boolean' } });
add({ type: 'object', properties: {}, additionalProperties: false });
add({ type: 'object', required: ['x'], properties: { x: { type: 'number', minimum: 0, maximum: 10 }, y: { type: 'number', minimum: 0, maximum: 10 } } });
add({ type: 'object', properties: { 'with space': { type: 'integer' }, 'quote"d': { type: 'boolean' }, 'ünï': { type: 'null' } }, required: ['with space', 'quote"d', 'ünï'] });
add({ type: 'object', properties: { tags: { type: 'array', items: s(5), maxItems: 3 } }, required: ['tags'] });
add({ properties: { implicit: { type: 'integer' } }, required: ['implicit'] });
add({ type: 'object', properties: { p: { type: 'object', properties: { q: { type: 'object', properties: { r: { type: 'boolean' } }, required: ['r'] } }, required: ['q'] } }, required: ['p'] });

// Arrays.
add({ type: 'array', items: { type: 'integer' }, maxItems: 5 });
add({ type: 'array', items: { type: 'boolean' }, minItems: 2, maxItems: 4 });
add({ type: 'array', items: { type: 'integer', minimum: 0, maximum: 3 }, minItems: 3, maxItems: 3 });
add({ type: 'array', maxItems: 0 });
add({ type: 'array', prefixItems: [s(4), { type: 'integer' }, { type: 'boolean' }], items: false });
add({ type: 'array', prefixItems: [{ const: 'head' }], items: { type: 'integer', minimum: 0, maximum: 99 }, maxItems: 4 });
add({ type: 'array', prefixItems: [{ type: 'integer' }, { type: 'integer' }], minItems: 2, items: false });
add({ type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, maxItems: 3 }, maxItems: 3 });
add({ type: 'array', items: { enum: ['x', 'y'] }, minItems: 1, maxItems: 6 });
add({ type: 'array', items: { type: 'object', properties: { k: s(3) }, required: ['k'] }, maxItems: 3 });

// anyOf, oneOf, allOf.
add({ anyOf: [s(4), { type: 'integer' }, { type: 'array', items: { type: 'boolean' }, maxItems: 2 }] });
add({ anyOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { type: 'object', properties: { b: s(3) }, required: ['b'] }] });
add({ oneOf: [{ type: 'integer' }, s(3), { type: 'boolean' }] });
add({ oneOf: [
  { type: 'object', properties: { type: { const: 'circle' }, r: { type: 'number', minimum: 0, maximum: 10 } }, required: ['type', 'r'] },
  { type: 'object', properties: { type: { const: 'rect' }, w: { type: 'integer', minimum: 1, maximum: 9 }, h: { type: 'integer', minimum: 1, maximum: 9 } }, required: ['type', 'w', 'h'] },
] });
add({ oneOf: [{ enum: ['a', 'b'] }, { enum: ['c'] }] });
add({ allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { type: 'object', properties: { b: { type: 'boolean' } }, required: ['b'] }] });
add({ allOf: [{ type: 'integer', minimum: 0 }, { maximum: 50 }] });
add({ allOf: [{ type: 'string', maxLength: 6 }, { minLength: 2 }] });
add({ allOf: [{ type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, additionalProperties: false }, { properties: { a: { minimum: 0, maximum: 5 } }, required: ['a'] }] });
add({ type: 'object', properties: { v: { anyOf: [{ type: 'integer' }, { type: 'null' }] } }, required: ['v'] });

// $ref and $defs, recursion included.
add({ $defs: { name: s(6) }, type: 'object', properties: { first: { $ref: '#/$defs/name' }, last: { $ref: '#/$defs/name' } }, required: ['first', 'last'] });
add({ definitions: { n: { type: 'integer', minimum: 0, maximum: 9 } }, type: 'array', items: { $ref: '#/definitions/n' }, maxItems: 4 });
add({ $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, next: { anyOf: [{ $ref: '#/$defs/node' }, { type: 'null' }] } }, required: ['value', 'next'] } }, $ref: '#/$defs/node' });
add({ $defs: { tree: { type: 'object', properties: { label: s(3), children: { type: 'array', items: { $ref: '#/$defs/tree' }, maxItems: 2 } }, required: ['label'] } }, $ref: '#/$defs/tree' });
add({ type: 'object', properties: { name: s(4), parent: { $ref: '#' } }, required: ['name'] });
add({ $defs: { pos: { type: 'integer', minimum: 1 }, pair: { type: 'array', prefixItems: [{ $ref: '#/$defs/pos' }, { $ref: '#/$defs/pos' }], items: false, minItems: 2 } }, $ref: '#/$defs/pair' });

// Unconstrained values.
add({});
add(true);
add({ type: 'object', properties: { any: {} }, required: ['any'] });
add({ type: 'array', maxItems: 3 });

// Nested objects and arrays (the benchmark's shape), then objects of growing width.
const address = { type: 'object', properties: { street: s(12), city: s(8), zip: { type: 'string', pattern: '^\\d{5}$' } }, required: ['street', 'city'] };
add({ type: 'object', properties: { user: { type: 'object', properties: { id: { type: 'integer', minimum: 1 }, email: { type: 'string', format: 'email' }, address } , required: ['id', 'address'] } }, required: ['user'] });
add({ type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { sku: s(6), qty: { type: 'integer', minimum: 1, maximum: 99 }, price: { type: 'number', minimum: 0 } }, required: ['sku', 'qty'] }, minItems: 1, maxItems: 3 }, total: { type: 'number', minimum: 0 } }, required: ['items', 'total'] });
add({ type: 'object', properties: { event: s(10), when: { type: 'string', format: 'date-time' }, attendees: { type: 'array', items: { type: 'string', format: 'email' }, maxItems: 2 } }, required: ['event', 'when', 'attendees'] });
add({ type: 'object', properties: { matrix: { type: 'array', items: { type: 'array', items: { type: 'number', minimum: -1, maximum: 1 }, minItems: 2, maxItems: 2 }, minItems: 2, maxItems: 2 } }, required: ['matrix'] });
add({ type: 'object', properties: { config: { type: 'object', properties: { debug: { type: 'boolean' }, level: { enum: ['low', 'mid', 'high'] }, limits: { type: 'object', properties: { cpu: { type: 'integer', minimum: 1, maximum: 64 }, mem: { type: 'integer', minimum: 128 } } } }, required: ['debug', 'level'] } }, required: ['config'] });
const kinds = [{ type: 'integer' }, s(5), { type: 'boolean' }, { type: 'number', minimum: -5, maximum: 5 }, { enum: ['a', 'b', 'c'] }, { type: ['integer', 'null'] }, { type: 'string', format: 'date' }];
for (let width = 1; width <= 16; ++width) {
  const properties = {};
  const required = [];
  for (let i = 0; i < width; ++i) {
    properties[`field_${i}`] = kinds[(i * 3 + width) % kinds.length];
    if ((i + width) % 3 !== 0) required.push(`field_${i}`);
  }
  add({ type: 'object', properties, required });
}

process.stdout.write(JSON.stringify(schemas, null, 1) + '\n');
