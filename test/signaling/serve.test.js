import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createAppServer } from '../../signaling/serve.js';
import { recordingLogger, responseText, TestClient } from './signaling-test-client.js';

const SECRET = 'secret-outside-the-root';
const POLICY = "default-src 'self'; script-src 'self'; object-src 'none'";
const INDEX = `<!doctype html><meta\n  http-equiv="Content-Security-Policy"\n  content="${POLICY}"\n/><title>EDNet P2P</title>`;

/** @type {string} */
let parent;
/** @type {Awaited<ReturnType<typeof createAppServer>>} */
let app;

before(async () => {
  // parent/secret.txt sits beside the served root, parent/dist.
  parent = await mkdtemp(join(tmpdir(), 'ednet-serve-'));
  const root = join(parent, 'dist');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(parent, 'secret.txt'), SECRET);
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  await writeFile(join(root, 'manifest.webmanifest'), '{"name":"EDNet P2P"}');
  await writeFile(join(root, 'assets', 'index-3f9a1c.js'), 'export const x = 1;');
  await writeFile(join(root, 'assets', 'index-77b2e0.css'), 'body{}');
  await writeFile(join(root, 'assets', 'logo-aa11.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(root, '.env'), SECRET);
  await symlink(join(parent, 'secret.txt'), join(root, 'link-out.txt'));
  // Made-up peer ids below: device proofs have their own tests (signaling-auth.test.js).
  app = await createAppServer({ port: 0, root, signaling: { logger: recordingLogger(), requireDeviceProof: false } });
});

after(async () => {
  await app?.close();
  await rm(parent, { recursive: true, force: true });
});

/**
 * A raw request, so the path reaches the server exactly as written.
 * @param {string} path
 * @param {{ method?: string, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ status: number | undefined, headers: import('node:http').IncomingHttpHeaders, body: string }>}
 */
function fetchRaw(path, { method = 'GET', headers = {} } = {}) {
  return responseText((onResponse) => request({ host: '127.0.0.1', port: app.port, path, method, headers, agent: false }, onResponse));
}

const PAGE = { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } };

test('GET /healthz answers 200', async () => {
  const response = await fetchRaw('/healthz');
  assert.equal(response.status, 200);
  assert.equal(response.body, 'ok\n');
  assert.equal(response.headers['cache-control'], 'no-store');
});

test('the root serves index.html, revalidated on every load', async () => {
  const response = await fetchRaw('/', PAGE);
  assert.equal(response.status, 200);
  assert.equal(response.body, INDEX);
  assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(response.headers['cache-control'], 'no-cache');
  assert.equal((await fetchRaw('/index.html')).headers['cache-control'], 'no-cache');
  assert.equal((await fetchRaw('/?room=abc')).body, INDEX);
});

test('sw.js and the manifest are revalidated; hashed assets are cached for good', async () => {
  const worker = await fetchRaw('/sw.js');
  assert.equal(worker.status, 200);
  assert.equal(worker.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(worker.headers['cache-control'], 'no-cache');
  const manifest = await fetchRaw('/manifest.webmanifest');
  assert.equal(manifest.headers['content-type'], 'application/manifest+json; charset=utf-8');
  assert.equal(manifest.headers['cache-control'], 'no-cache');
  for (const [path, type] of [
    ['/assets/index-3f9a1c.js', 'text/javascript; charset=utf-8'],
    ['/assets/index-77b2e0.css', 'text/css; charset=utf-8'],
    ['/assets/logo-aa11.svg', 'image/svg+xml'],
  ]) {
    const asset = await fetchRaw(path);
    assert.equal(asset.status, 200, path);
    assert.equal(asset.headers['content-type'], type, path);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable', path);
    assert.equal(asset.headers['x-content-type-options'], 'nosniff', path);
  }
});

test('a known ETag gets 304, HEAD gets headers only', async () => {
  const first = await fetchRaw('/sw.js');
  const etag = String(first.headers.etag);
  const again = await fetchRaw('/sw.js', { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  const head = await fetchRaw('/sw.js', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(Number(head.headers['content-length']), first.body.length);
});

test('page navigations to client-side routes get index.html; missing assets get 404', async () => {
  const route = await fetchRaw('/rooms/abc', PAGE);
  assert.equal(route.status, 200);
  assert.equal(route.body, INDEX);
  assert.equal(route.headers['cache-control'], 'no-cache');
  assert.equal((await fetchRaw('/rooms/abc', { headers: { 'Sec-Fetch-Mode': 'navigate' } })).body, INDEX);
  assert.equal((await fetchRaw('/assets/gone-123.js', PAGE)).status, 404);
  assert.equal((await fetchRaw('/missing.png', { headers: { Accept: 'image/*' } })).status, 404);
});

test('only GET and HEAD are allowed', async () => {
  const response = await fetchRaw('/index.html', { method: 'POST' });
  assert.equal(response.status, 405);
  assert.equal(response.headers.allow, 'GET, HEAD');
});

test('nothing outside the root is served, however the path is written', async () => {
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/%2E%2E/secret.txt',
    '/..%2fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%252e%252e/secret.txt',
    '/secret.txt%00.html',
    '/link-out.txt',
    '/.env',
    '/%2eenv',
    '/%E0%A4%A',
  ];
  for (const path of attempts) {
    for (const options of [{}, PAGE]) {
      const response = await fetchRaw(path, options);
      assert.ok(!response.body.includes(SECRET), `${path} leaked the file`);
      assert.ok(response.status === 400 || response.status === 404 || response.body === INDEX, `${path}: ${response.status}`);
    }
  }
  assert.equal((await fetchRaw('/..%2fsecret.txt')).status, 400);
  assert.equal((await fetchRaw('/link-out.txt')).status, 404);
  assert.equal((await fetchRaw('/.env')).status, 404);
});

test('a raw request line with dot segments is refused too', async () => {
  const response = await new Promise((resolve, reject) => {
    const socket = connect(app.port, '127.0.0.1', () => socket.end('GET /../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.ok(!String(response).includes(SECRET));
});

test('the signaling WebSocket lives at /signaling on the same port', async () => {
  assert.equal(app.signalingUrl, `ws://127.0.0.1:${app.port}/signaling`);
  assert.equal((await fetchRaw('/signaling', PAGE)).status, 426);
  const alice = await TestClient.connect(app.signalingUrl);
  const bob = await TestClient.connect(app.signalingUrl);
  await alice.join('room-1', 'alice');
  assert.deepEqual((await bob.join('room-1', 'bob')).peers, ['alice']);
  bob.send({ type: 'signal', room: 'room-1', to: 'alice', data: { kind: 'request' } });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'room-1', from: 'bob', data: { kind: 'request' } });
  assert.equal(app.stats().memberships, 2);
  await alice.close();
  await bob.close();
});

test('without a built app the server refuses to start, saying why', async () => {
  await assert.rejects(createAppServer({ port: 0, root: join(parent, 'no-such-dir') }), /no built app in .*npm run build/);
});

test('run directly, it prints its URL and serves until SIGTERM', async () => {
  const script = fileURLToPath(new URL('../../signaling/serve.js', import.meta.url));
  // PORT=0 lets the OS pick; the printed URL says which.
  const child = spawn(process.execPath, [script, join(parent, 'dist')], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /EDNet P2P: (http:\/\/127\.0\.0\.1:\d+\/) \(signaling at ws:\/\/127\.0\.0\.1:\d+\/signaling\)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => (output += chunk));
    exited.then(() => reject(new Error(`exited early: ${output}`)));
  });
  const health = await new Promise((resolve, reject) =>
    request(`${url}healthz`, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    })
      .on('error', reject)
      .end(),
  );
  assert.equal(health, 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('pages carry the app\'s Content-Security-Policy as a header, with frame-ancestors added', async () => {
  for (const path of ['/', '/index.html', '/rooms/deep/link']) {
    const page = await fetchRaw(path, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200, path);
    assert.equal(page.headers['content-security-policy'], `${POLICY}; frame-ancestors 'none'`, path);
    assert.equal(page.headers['x-frame-options'], 'DENY', path);
  }
  const script = await fetchRaw('/assets/index-3f9a1c.js');
  assert.equal(script.headers['content-security-policy'], undefined);
});
