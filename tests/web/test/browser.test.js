// The chat page in a real browser (Debian's chromium, headless, through puppeteer-core) against real
// `pagedllm serve` processes: stories260K with a LoRA adapter for the answers (compared with the API's own at
// temperature 0), a dummy-weight SmolLM2 that is slow enough on a CPU to watch an answer stream and stop it, and
// a server with an API key for the 401 flow. Leaves build/test-artifacts/web-chat.png behind.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  artifactPath, chatCompletion, launchBrowser, loraDir, metric, metrics, openPage, sleep, sourceDir, startServer,
  storiesDir, waitFor,
} from './helpers.js';

const LORA = 'stories-lora';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// ---- page helpers -------------------------------------------------------------------------------------------

async function setField(page, selector, value) {
  await page.$eval(selector, (element, v) => {
    element.value = v;
    element.dispatchEvent(new Event('change', { bubbles: true }));
  }, String(value));
}

async function openSettings(page) {
  if (await page.$eval('#settings', (e) => e.hidden)) await page.click('#toggle-settings');
}

async function sendMessage(page, text) {
  await page.click('#prompt');
  await page.type('#prompt', text);
  await page.keyboard.press('Enter');
}

const isIdle = (page) => page.evaluate(() => document.body.dataset.state === 'idle' &&
  !document.querySelector('[data-streaming]'));
const waitIdle = (page, timeoutMs) => waitFor('the answer to finish', () => isIdle(page), timeoutMs);
const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('pagedllm.conversations') ?? '[]'));
const modelOptions = (page) => page.$$eval('#model option', (options) => options.map((o) => [o.value, o.textContent]));
const lastAnswer = (page) => page.$$eval('#messages .message.assistant', (answers) => ({
  html: answers.at(-1).querySelector('.content').innerHTML,
  stats: answers.at(-1).querySelector('.stats').textContent,
}));

// The chat request bodies the page sends, in order.
function recordChatRequests(page) {
  const bodies = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(request.postData()));
  });
  return bodies;
}

// ---- stories260K with a LoRA adapter ------------------------------------------------------------------------

describe('stories260K with a LoRA adapter', () => {
  let server;
  let page;
  let requests;
  before(async () => {
    // An fp32 KV cache (auto would pick bf16 for the NF4 base): the API answer must equal the streamed one, and with
    // the prefix cached the second request's prefill takes the few-row kernels, whose tiny differences a bf16 cache
    // can round across a near-tie.
    server = await startServer(storiesDir, ['--lora', `${LORA}=${loraDir}`, '--kv-cache-dtype', 'float32']);
    page = await openPage(browser, server.url);
    requests = recordChatRequests(page);
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, 'pagedllm serve exits 0 after SIGTERM');
  });

  test('the page loads and lists the model and the adapter from /v1/models', async () => {
    await waitFor('the model list', async () => (await modelOptions(page)).length === 2);
    assert.deepEqual(await modelOptions(page), [
      ['stories260K', 'stories260K'],
      [LORA, `${LORA} (LoRA adapter of stories260K)`],
    ]);
    assert.equal(await page.title(), 'pagedllm chat');
    assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  });

  test('a message streams an answer equal to the API answer, with tokens/s, kept in localStorage', async () => {
    await openSettings(page);
    await setField(page, '#system-prompt', 'You tell short stories.');
    await setField(page, '#temperature', 0);
    await setField(page, '#max-tokens', 40);
    await sendMessage(page, 'Tell me about Lily');
    await waitIdle(page);
    const conversations = await stored(page);
    assert.equal(conversations.length, 1);
    assert.equal(conversations[0].title, 'Tell me about Lily');
    const [question, answer] = conversations[0].messages;
    assert.deepEqual(question, { role: 'user', content: 'Tell me about Lily' });
    const messages = [{ role: 'system', content: 'You tell short stories.' },
                      { role: 'user', content: 'Tell me about Lily' }];
    assert.deepEqual(requests.at(-1), {
      model: 'stories260K', messages, temperature: 0, top_p: 1, max_tokens: 40, stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const expected = await chatCompletion(server.url, { model: 'stories260K', messages, temperature: 0, max_tokens: 40 });
    assert.equal(answer.content, expected.choices[0].message.content);
    assert.equal(answer.stats.tokens, expected.usage.completion_tokens);
    const shown = await lastAnswer(page);
    assert.match(shown.stats, new RegExp(`^${expected.usage.completion_tokens} tokens · \\d+\\.\\d tokens/s`));
    assert.ok(shown.html.startsWith('<p>'), shown.html);
  });

  test('picking the adapter sends its name and shows its answer', async () => {
    await page.select('#model', LORA);
    await sendMessage(page, 'What is the name of the dog?');
    await waitIdle(page);
    const body = requests.at(-1);
    assert.equal(body.model, LORA);
    const expected = await chatCompletion(server.url, { ...body, stream: false, stream_options: undefined });
    const [conversation] = await stored(page);
    assert.equal(conversation.messages.length, 4, 'the second question continues the conversation');
    assert.equal(conversation.messages[3].content, expected.choices[0].message.content);
    assert.equal(body.messages.length, 4, 'system prompt, first question and answer, second question');
    const settings = await page.evaluate(() => JSON.parse(localStorage.getItem('pagedllm.settings')));
    assert.equal(settings.model, LORA, 'the choice is remembered');
  });

  test('a refused request shows the server\'s error plainly', async () => {
    await setField(page, '#max-tokens', 100000);
    await sendMessage(page, 'Too long');
    await waitFor('the error', () => page.$eval('#error', (e) => !e.hidden && e.textContent));
    const text = await page.$eval('#error', (e) => e.textContent);
    assert.match(text, /^The server refused the request \(400\): This model's maximum context length is \d+ tokens\. However, you requested 100000 output tokens/);
    await setField(page, '#max-tokens', 40);
  });

  test('Markdown and code blocks render, and model output cannot inject markup', async () => {
    const markdown = 'Here is **bold**, `code` and a list:\n- one\n- two\n\n```js\nconst x = "<b>not bold</b>";\n```\n' +
                     '<img src=x onerror="window.injected=1">';
    await page.evaluate((content) => {
      const conversations = JSON.parse(localStorage.getItem('pagedllm.conversations'));
      conversations.push({ id: 'md', title: 'Markdown sample', updatedAt: Date.now(), messages: [
        { role: 'user', content: 'Show me Markdown' },
        { role: 'assistant', content, stats: { tokens: 42, tokensPerSecond: 123.4, finishReason: 'stop' } },
      ] });
      localStorage.setItem('pagedllm.conversations', JSON.stringify(conversations));
    }, markdown);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor('the stored conversation', () => page.$('#messages .message.assistant'));
    const shown = await lastAnswer(page);
    assert.equal(shown.html,
      '<p>Here is <strong>bold</strong>, <code>code</code> and a list:</p>\n<ul><li>one</li><li>two</li></ul>\n' +
      '<pre><code class="language-js">const x = "&lt;b&gt;not bold&lt;/b&gt;";</code></pre>\n' +
      '<p>&lt;img src=x onerror="window.injected=1"&gt;</p>');
    assert.equal(shown.stats, '42 tokens · 123.4 tokens/s');
    assert.equal(await page.evaluate(() => window.injected), undefined);
  });

  test('conversations: new, rename, delete, and they survive a reload', async () => {
    const titles = () => page.$$eval('#conversations .title', (b) => b.map((e) => e.textContent));
    assert.deepEqual(await titles(), ['Markdown sample', 'Tell me about Lily']);
    await page.click('#new-chat');
    await sendMessage(page, 'Once upon a time\nthere was a cat');
    await waitIdle(page);
    assert.deepEqual(await titles(), ['Once upon a time', 'Markdown sample', 'Tell me about Lily']);
    await page.click('#conversations li.current .rename-button');
    await page.$eval('#conversations input.rename', (e) => { e.value = ''; });
    await page.type('#conversations input.rename', 'Cat story');
    await page.keyboard.press('Enter');
    assert.deepEqual(await titles(), ['Cat story', 'Markdown sample', 'Tell me about Lily']);
    await page.click('#conversations li.current .rename-button');
    await page.type('#conversations input.rename', ' (draft)');
    await page.keyboard.press('Escape');
    assert.deepEqual(await titles(), ['Cat story', 'Markdown sample', 'Tell me about Lily'], 'Escape keeps the title');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor('the sidebar', async () => (await titles()).length === 3);
    assert.deepEqual(await titles(), ['Cat story', 'Markdown sample', 'Tell me about Lily']);
    await page.hover('#conversations li:nth-child(2)');
    await page.click('#conversations li:nth-child(2) .delete-button');
    assert.deepEqual(await titles(), ['Cat story', 'Tell me about Lily']);
    assert.deepEqual((await stored(page)).map((c) => c.title).sort(), ['Cat story', 'Tell me about Lily']);
  });

  test('screenshot of a conversation with a streamed answer and Markdown', async () => {
    await waitFor('the model list', async () => (await modelOptions(page)).length === 2);
    await page.evaluate(() => {
      const conversations = JSON.parse(localStorage.getItem('pagedllm.conversations'));
      const lily = conversations.find((c) => c.title === 'Tell me about Lily');
      lily.updatedAt = Date.now();  // the most recent conversation opens on load
      lily.messages.push({ role: 'user', content: 'Show the loop in C' }, {
        role: 'assistant',
        content: 'A **loop** that prints `i`:\n\n```c\nfor (int i = 0; i < 3; i++) printf("%d\\n", i);\n```',
        stats: { tokens: 31, tokensPerSecond: 812.5, finishReason: 'stop' },
      });
      localStorage.setItem('pagedllm.conversations', JSON.stringify(conversations));
    });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor('the sidebar', () => page.$('#conversations li.current'));
    assert.equal(await page.$eval('#conversations li.current .title', (e) => e.textContent), 'Tell me about Lily');
    await waitFor('the code block', () => page.$('#messages pre code.language-c'));
    await openSettings(page);
    await page.$eval('#messages', (e) => { e.scrollTop = e.scrollHeight; });
    const file = artifactPath('web-chat.png');
    await page.screenshot({ path: file });
    assert.deepEqual(page.errors, []);
  });

  test('serve logged its start-up block and one access line per request', async () => {
    const log = server.stderr();
    assert.match(log, /^INFO: {5}pagedllm \S+ serve$/m);
    assert.match(log, new RegExp(`^INFO: {5}model: stories260K \\(${storiesDir}\\), max_model_len \\d+$`, 'm'));
    // The adapter was trained over an NF4+DQ base (finetune's default), so the base is served as it was trained.
    assert.match(log, /^INFO: {5}serving the base in nf4 with double quantization, the format LoRA adapter /m);
    assert.match(log, /^INFO: {5}weights: NF4\+DQ linear layers, F32 LM head, \d+\.\d MiB$/m);
    assert.match(log, /^INFO: {5}KV cache: \d+ blocks of 16 tokens \(\d+ tokens\), \d+\.\d MiB$/m);
    // 5 layers × 4 kv heads × head_dim 8 × K and V × 4 bytes.
    assert.match(log, /^INFO: {5}KV cache dtype: float32 \(1280 bytes per token\)$/m);
    assert.match(log, new RegExp(`^INFO: {5}LoRA adapter: ${LORA}$`, 'm'));
    assert.match(log, new RegExp(`^INFO: {5}listening on ${server.url} \\(press CTRL\\+C to quit\\)$`, 'm'));
    assert.match(log, new RegExp(`^INFO: {5}web UI: ${server.url}/$`, 'm'));
    const startUp = log.slice(0, log.indexOf('web UI:'));
    assert.doesNotMatch(startUp, /127\.0\.0\.1:\d+ - /, 'the start-up block comes before any access line');
    const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const access = (line) => new RegExp(`^INFO: {5}127\\.0\\.0\\.1:\\d+ - ${escape(line)}$`, 'm');
    assert.match(log, access('"GET / HTTP/1.1" 200 OK'));
    assert.match(log, access('"GET /web/app.mjs HTTP/1.1" 200 OK'));
    assert.match(log, access('"GET /v1/models HTTP/1.1" 200 OK'));
    assert.match(log, access('"POST /v1/chat/completions HTTP/1.1" 200 OK'));
    assert.match(log, access('"POST /v1/chat/completions HTTP/1.1" 400 Bad Request'));
  });
});

// ---- a slow model: watch an answer stream, then stop it ----------------------------------------------------

describe('a long answer from a slow model', () => {
  let server;
  let page;
  before(async () => {
    server = await startServer(path.join(sourceDir, 'models/smollm2-135m-dummy'),
      ['--load-format', 'dummy', '--max-model-len', '2048', '--num-kv-blocks', '160', '--num-threads', '1']);
    page = await openPage(browser, server.url);
    await waitFor('the model list', async () => (await modelOptions(page)).length === 1);
  });
  after(async () => { await server.stop(); });

  test('tokens stream in, and Stop aborts the request on the server', async () => {
    const aborted = (s) => metric(s, 'vllm:request_success_total', 'finished_reason="abort"');
    const abortedBefore = aborted(await metrics(server.url));
    await openSettings(page);
    await setField(page, '#max-tokens', 1500);
    await sendMessage(page, 'Write a very long story');
    // Watch the streaming answer grow: several distinct, increasing lengths while it is still streaming.
    const lengths = [];
    await waitFor('several streamed updates', async () => {
      const length = await page.evaluate(() =>
        document.querySelector('[data-streaming] .content')?.textContent.length ?? -1);
      if (length > 0 && length !== lengths.at(-1)) lengths.push(length);
      return lengths.length >= 4;
    }, 60_000);
    assert.deepEqual([...lengths].sort((a, b) => a - b), lengths, 'the answer only grows');
    assert.match(await page.$eval('[data-streaming] .stats', (e) => e.textContent), /^\d+ tokens · \d+\.\d tokens\/s$/);
    assert.equal(await page.$eval('#stop', (e) => e.hidden), false);
    assert.equal(await page.$eval('#send', (e) => e.hidden), true);
    const running = metric(await metrics(server.url), 'vllm:num_requests_running');
    assert.equal(running, 1, 'the answer is still being generated when Stop is clicked');
    await page.click('#stop');
    await waitIdle(page, 5_000);
    const after = await waitFor('the server to abort the request', async () => {
      const s = await metrics(server.url);
      return aborted(s) === abortedBefore + 1 && metric(s, 'vllm:num_requests_running') === 0 ? s : null;
    });
    assert.equal(metric(after, 'vllm:kv_cache_usage_perc'), 0, 'every KV block is back');
    const [conversation] = await stored(page);
    const answer = conversation.messages[1];
    assert.equal(answer.stats.finishReason, 'abort');
    assert.ok(answer.stats.tokens > 0 && answer.stats.tokens < 1500, `${answer.stats.tokens} tokens kept`);
    assert.match((await lastAnswer(page)).stats, /^\d+ tokens · \d+\.\d tokens\/s · stopped$/);
    assert.equal(await page.$eval('#send', (e) => e.hidden), false);
    // Nothing more arrives after the stop.
    const text = answer.content;
    await sleep(300);
    assert.equal((await stored(page))[0].messages[1].content, text);
    assert.deepEqual(page.errors, []);
  });
});

// ---- the API key ----------------------------------------------------------------------------------------------

describe('a server with an API key', () => {
  const KEY = 'sekret-key';
  let server;
  let page;
  before(async () => {
    server = await startServer(storiesDir, ['--api-key', KEY]);
    page = await openPage(browser, server.url);
  });
  after(async () => { await server.stop(); });

  const dialogOpen = () => page.$eval('#api-key-dialog', (d) => d.open);

  test('401 asks for the key, a wrong key asks again, the right one is kept and used', async () => {
    await waitFor('the key dialog', dialogOpen);
    assert.equal(await page.$eval('#error', (e) => e.textContent), 'The server refused the request (401): ' +
      'Unauthorized: a valid API key is required (Authorization: Bearer ...)');
    assert.deepEqual(await modelOptions(page), []);
    await page.type('#api-key', 'wrong');
    await page.click('#save-api-key');
    await waitFor('the dialog again', async () => (await dialogOpen()) &&
      (await page.evaluate(() => localStorage.getItem('pagedllm.apiKey'))) === 'wrong');
    await page.$eval('#api-key', (e) => { e.value = ''; });
    await page.type('#api-key', KEY);
    await page.click('#save-api-key');
    await waitFor('the model list', async () => (await modelOptions(page)).length === 1);
    assert.equal(await dialogOpen(), false);
    assert.equal(await page.$eval('#error', (e) => e.hidden), true);
    assert.equal(await page.evaluate(() => localStorage.getItem('pagedllm.apiKey')), KEY);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor('the model list after a reload', async () => (await modelOptions(page)).length === 1);
    assert.equal(await dialogOpen(), false, 'the kept key is used at once');
    await openSettings(page);
    await setField(page, '#max-tokens', 24);  // two answers and three questions stay within max_model_len 512
    await sendMessage(page, 'Hello');
    await waitIdle(page);
    assert.equal((await stored(page))[0].messages.length, 2);
    assert.match(server.stderr(), /^INFO: {5}127\.0\.0\.1:\d+ - "GET \/v1\/models HTTP\/1\.1" 401 Unauthorized$/m);
  });

  test('a key that stops working mid-session asks again and resends the message', async () => {
    await page.evaluate(() => localStorage.setItem('pagedllm.apiKey', 'expired'));
    await sendMessage(page, 'Again');
    await waitFor('the key dialog', dialogOpen);
    assert.equal((await stored(page))[0].messages.length, 3, 'the question is kept, without an answer');
    await page.$eval('#api-key', (e) => { e.value = ''; });
    await page.type('#api-key', KEY);
    await page.click('#save-api-key');
    await waitFor('the answer', async () => (await stored(page))[0].messages.length === 4);
    assert.equal((await stored(page))[0].messages[3].role, 'assistant');
    assert.deepEqual(page.errors, []);
  });
});
