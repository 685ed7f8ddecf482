// The OpenAI SDK's zod helpers against `pagedllm serve`: chat.completions.parse with zodResponseFormat returns a
// parsed object that the zod schema accepts. Starts its own server (stories260K) from $PAGEDLLM_BINARY.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const root = new URL('../../..', import.meta.url).pathname;
let server;
let client;

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

before(async () => {
  const port = await freePort();
  server = spawn(process.env.PAGEDLLM_BINARY, ['serve', '--model', `${root}/models/stories260K`, '--host', '127.0.0.1',
    '--port', String(port), '--chat-template', `${root}/tests/fixtures/chat_templates/tinyllama-chat.jinja`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; ++i) {
    try { if ((await fetch(`${url}/health`)).ok) break; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'EMPTY', maxRetries: 0 });
});
after(() => server.kill('SIGTERM'));

const Story = z.object({
  title: z.string().max(16),
  year: z.number().int().min(1900).max(2100),
  mood: z.enum(['happy', 'sad']),
  characters: z.array(z.object({ name: z.string().max(8), age: z.number().int().min(0).max(99) })).max(2),
  sequel: z.string().max(6).nullable(),
});

test('chat.completions.parse with a zod schema returns a parsed, valid object', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.parse({
      model: 'stories260K', messages: [{ role: 'user', content: 'Write a story.' }], temperature: 1, seed, max_tokens: 300,
      response_format: zodResponseFormat(Story, 'story'),
    });
    const message = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.ok(message.parsed, message.content);
    assert.deepEqual(Story.parse(message.parsed), message.parsed);
  }
});
