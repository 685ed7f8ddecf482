// The page's browser-side state (web/store.mjs) and its SSE parsing (web/chat_api.mjs), in Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../../web/chat_api.mjs';
import { ChatStore, DEFAULT_SETTINGS, titleFrom } from '../../../web/store.mjs';

function memoryStorage(entries = {}) {
  const map = new Map(Object.entries(entries));
  return {
    map,
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
}

test('conversations are created, titled by their first question, renamed and deleted', () => {
  const storage = memoryStorage();
  const store = new ChatStore(storage);
  const a = store.create();
  store.append(a.id, { role: 'user', content: '  Tell me a story\nabout a dog' });
  store.append(a.id, { role: 'assistant', content: 'Once', stats: { tokens: 1 } });
  store.append(a.id, { role: 'user', content: 'More' });
  assert.equal(store.get(a.id).title, 'Tell me a story');
  store.rename(a.id, '  Dogs ');
  store.rename(a.id, '   ');
  assert.equal(store.get(a.id).title, 'Dogs');
  const reloaded = new ChatStore(storage);
  assert.deepEqual(reloaded.get(a.id).messages.map((m) => m.content), ['  Tell me a story\nabout a dog', 'Once', 'More']);
  reloaded.remove(a.id);
  assert.deepEqual(new ChatStore(storage).conversations, []);
});

test('the most recently updated conversation is listed first', () => {
  const store = new ChatStore(memoryStorage());
  const a = store.create();
  const b = store.create();
  a.updatedAt = 1;
  b.updatedAt = 2;
  assert.deepEqual(store.sorted().map((c) => c.id), [b.id, a.id]);
});

test('titles are shortened to 40 characters', () => {
  assert.equal(titleFrom('x'.repeat(41)), `${'x'.repeat(39)}…`);
  assert.equal(titleFrom('x'.repeat(40)), 'x'.repeat(40));
  assert.equal(titleFrom('   '), 'New chat');
});

test('settings fall back to the defaults; a corrupt entry does not break the page', () => {
  const storage = memoryStorage({ 'pagedllm.conversations': '{not json', 'pagedllm.settings': '{"temperature":0}' });
  const store = new ChatStore(storage);
  assert.deepEqual(store.conversations, []);
  assert.deepEqual(store.settings(), { ...DEFAULT_SETTINGS, temperature: 0 });
});

test('the API key is kept, and an empty one removed', () => {
  const storage = memoryStorage();
  const store = new ChatStore(storage);
  assert.equal(store.apiKey(), '');
  store.saveApiKey('k1');
  assert.equal(storage.map.get('pagedllm.apiKey'), 'k1');
  store.saveApiKey('');
  assert.equal(storage.map.has('pagedllm.apiKey'), false);
});

test('SSE payloads are split across arbitrary chunk boundaries', () => {
  const parser = new SseParser();
  assert.deepEqual(parser.feed('data: {"a":1}\n\nda'), ['{"a":1}']);
  assert.deepEqual(parser.feed('ta: {"b"'), []);
  assert.deepEqual(parser.feed(':2}\r\n\r\ndata: [DONE]\n\n'), ['{"b":2}', '[DONE]']);
});
