// Pieces of the hardening tests: raw HTTP/1.1 over a socket (what fetch will not send: pipelining, bad framing,
// malformed heads), and `pagedllm serve` started with exactly the given flags.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './helpers.js';

// Sends `bytes` on a fresh connection and resolves with everything the server sent until it closed.
export function rawExchange(url, bytes) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    const chunks = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

// Status lines of the responses in `text` (a body need not end in CRLF, so they are matched, not split).
export const statusLines = (text) => text.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];

// Starts `pagedllm serve` with `args` (no flags added) and resolves once /health answers, or with the exit code and
// stderr if it exits first.
export async function spawnServe(args, { port } = {}) {
  const binary = process.env.PAGEDLLM_BINARY;
  const chosenPort = port ?? await freePort();
  const child = spawn(binary, ['serve', '--model', process.env.PAGEDLLM_MODEL_DIR, '--host', '127.0.0.1',
                               '--port', String(chosenPort), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${chosenPort}`;
  for (;;) {
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 100))]);
    if (code !== undefined) return { exitCode: code, stderr };
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch { /* not listening yet */ }
  }
  return {
    url, child, exited,
    stderr: () => stderr,
    residentBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
