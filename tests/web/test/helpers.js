// Shared pieces of the browser tests: `pagedllm serve` processes whose stderr the tests read, headless chromium
// through puppeteer-core, and small waits. run.sh sets the environment (binary, model, adapter, artifact folder).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const binary = process.env.PAGEDLLM_BINARY;
export const sourceDir = process.env.PAGEDLLM_SOURCE_DIR;
export const loraDir = process.env.PAGEDLLM_LORA_DIR;
export const artifactDir = process.env.PAGEDLLM_ARTIFACT_DIR;
if (!binary || !sourceDir || !loraDir || !artifactDir) {
  throw new Error('run these tests through run.sh (PAGEDLLM_BINARY, PAGEDLLM_SOURCE_DIR, PAGEDLLM_LORA_DIR, ' +
                  'PAGEDLLM_ARTIFACT_DIR)');
}
export const storiesDir = path.join(sourceDir, 'models/stories260K');
export const chatTemplate = path.join(sourceDir, 'tests/fixtures/chat_templates/tinyllama-chat.jinja');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `probe` (sync or async) until it returns a truthy value; fails with `what` after timeoutMs.
export async function waitFor(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Starts `pagedllm serve --model MODEL ...args` on a free port and resolves once /health answers 200. The
// server's stderr is collected (the start-up block and the access log) and printed if the server fails.
export async function startServer(model, args = []) {
  const port = await freePort();
  const allArgs = ['serve', '--model', model, '--host', '127.0.0.1', '--port', String(port),
                   '--chat-template', chatTemplate, ...args];
  const child = spawn(binary, allArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => { stderr += text; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`pagedllm serve ${allArgs.join(' ')} to become healthy`, async () => {
    if (child.exitCode !== null) throw new Error(`pagedllm serve exited with ${child.exitCode}:\n${stderr}`);
    try {
      return (await fetch(`${url}/health`)).status === 200;
    } catch {
      return false;  // not listening yet
    }
  }, 120_000);
  return {
    url,
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export async function launchBrowser() {
  // Chromium refuses to run as root with its sandbox on; the test machines run as root.
  const args = ['--disable-gpu', '--no-first-run', '--no-default-browser-check', '--window-size=1280,860'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
    defaultViewport: { width: 1280, height: 860 },
  });
}

// A fresh tab on the server's page, with page errors collected (a test fails if the page threw).
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
  page.errors = errors;
  return page;
}

// Prometheus text → Map of 'name{labels}' → number.
export async function metrics(url) {
  const samples = new Map();
  for (const line of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}
export function metric(samples, name, extraLabels = '') {
  for (const [key, value] of samples) {
    if (key.startsWith(`${name}{`) && key.includes(extraLabels)) return value;
  }
  return 0;  // a counter not yet reported
}

export async function chatCompletion(url, body, apiKey) {
  const headers = { 'Content-Type': 'application/json' };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`chat completion failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export function artifactPath(name) {
  mkdirSync(artifactDir, { recursive: true });
  return path.join(artifactDir, name);
}
