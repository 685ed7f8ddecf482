// The flags that switch the page and the access log off, on the real binary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, storiesDir } from './helpers.js';

test('--no-web-ui answers 404 at / and --disable-access-log prints no request lines', async () => {
  const server = await startServer(storiesDir, ['--no-web-ui', '--disable-access-log']);
  try {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 404);
    assert.deepEqual(await page.json(), {
      error: { message: 'Not Found: GET /', type: 'NotFoundError', param: null, code: 404 },
    });
    assert.equal((await fetch(`${server.url}/web/app.mjs`)).status, 404);
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 200);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
  const log = server.stderr();
  assert.match(log, /^INFO: {5}web UI: off \(--no-web-ui\)$/m);
  assert.doesNotMatch(log, / - "GET /);
});
