// Compressed serving: the build's .br/.gz copies go out by Accept-Encoding, over real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { precompressDirectory } from '../../scripts/precompress-plugin.js';
import { createStaticHandler, preferredEncoding } from '../../signaling/static-files.js';

const SCRIPT = `export const words = ${JSON.stringify('a peer to peer election '.repeat(200))};\n`;
const STYLE = `body { color: black; }\n${'.card { margin: 0 auto; padding: 12px; }\n'.repeat(60)}`;
const INDEX = `<!doctype html><title>EDNet P2P</title><main>${'<p>Loading the app, please wait.</p>'.repeat(40)}</main>`;
const SERVICE_WORKER = `self.addEventListener('fetch', () => {});\n${'// precache entry\n'.repeat(80)}`;

/** @type {string} */
let parent;
/** @type {string} */
let root;
/** @type {import('node:http').Server} */
let server;
/** @type {number} */
let port;

before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'ednet-static-'));
  root = join(parent, 'dist');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), INDEX);
  await writeFile(join(root, 'sw.js'), SERVICE_WORKER);
  await writeFile(join(root, 'manifest.webmanifest'), JSON.stringify({ name: 'EDNet P2P', description: 'x'.repeat(600) }));
  await writeFile(join(root, 'assets', 'room-3f9a1c.js'), SCRIPT);
  await writeFile(join(root, 'assets', 'index-77b2e0.css'), STYLE);
  await writeFile(join(root, 'assets', 'tiny-aa11.js'), 'export {};');
  await writeFile(join(root, 'icon.png'), Buffer.alloc(2048, 7));
  // A compressed copy that is a link out of the root must never be served.
  await writeFile(join(parent, 'secret.txt'), 'secret');
  await writeFile(join(root, 'assets', 'linked-0b0b.js'), SCRIPT);
  await precompressDirectory(root);
  await rm(join(root, 'assets', 'linked-0b0b.js.br'));
  await symlink(join(parent, 'secret.txt'), join(root, 'assets', 'linked-0b0b.js.br'));

  const handle = await createStaticHandler(root);
  server = createServer((req, res) => void handle(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
});

after(async () => {
  await new Promise((resolve) => server?.close(() => resolve(undefined)));
  await rm(parent, { recursive: true, force: true });
});

/**
 * A raw request: node's client never decodes, so the bytes are what went over the wire.
 * @param {string} path
 * @param {{ method?: string, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ status: number | undefined, headers: import('node:http').IncomingHttpHeaders, body: Buffer }>}
 */
function get(path, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (response) => {
      /** @type {Buffer[]} */
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

const BROWSER = 'gzip, deflate, br, zstd';

test('the build step writes brotli and gzip copies of text files only, and skips tiny ones', async () => {
  const script = await readFile(join(root, 'assets', 'room-3f9a1c.js'));
  assert.deepEqual(brotliDecompressSync(await readFile(join(root, 'assets', 'room-3f9a1c.js.br'))), script);
  assert.deepEqual(gunzipSync(await readFile(join(root, 'assets', 'room-3f9a1c.js.gz'))), script);
  for (const name of ['index.html', 'sw.js', 'manifest.webmanifest', 'assets/index-77b2e0.css']) {
    await readFile(join(root, `${name}.br`));
    await readFile(join(root, `${name}.gz`));
  }
  await assert.rejects(readFile(join(root, 'icon.png.br')), { code: 'ENOENT' });
  await assert.rejects(readFile(join(root, 'assets', 'tiny-aa11.js.gz')), { code: 'ENOENT' });
});

test('a browser that accepts brotli gets brotli, with the original type, immutable for hashed assets', async () => {
  const response = await get('/assets/room-3f9a1c.js', { headers: { 'Accept-Encoding': BROWSER } });
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-encoding'], 'br');
  assert.equal(response.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(response.headers.vary, 'Accept-Encoding');
  assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(Number(response.headers['content-length']), response.body.length);
  assert.ok(response.body.length < SCRIPT.length / 5, `brotli body ${response.body.length} bytes`);
  assert.equal(brotliDecompressSync(response.body).toString(), SCRIPT);
});

test('gzip when brotli is not accepted; the file as it is when nothing is', async () => {
  const gz = await get('/assets/index-77b2e0.css', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(gunzipSync(gz.body).toString(), STYLE);

  const plain = await get('/assets/index-77b2e0.css');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.headers.vary, 'Accept-Encoding');
  assert.equal(plain.body.toString(), STYLE);

  const identityOnly = await get('/assets/index-77b2e0.css', { headers: { 'Accept-Encoding': 'identity' } });
  assert.equal(identityOnly.headers['content-encoding'], undefined);
  const refused = await get('/assets/index-77b2e0.css', { headers: { 'Accept-Encoding': 'br;q=0, gzip;q=0' } });
  assert.equal(refused.headers['content-encoding'], undefined);
  assert.equal(refused.body.toString(), STYLE);
});

test('q-values decide, and * stands for the codings not named', async () => {
  assert.equal((await get('/sw.js', { headers: { 'Accept-Encoding': 'br;q=0.5, gzip;q=0.9' } })).headers['content-encoding'], 'gzip');
  assert.equal((await get('/sw.js', { headers: { 'Accept-Encoding': '*' } })).headers['content-encoding'], 'br');
  assert.equal((await get('/sw.js', { headers: { 'Accept-Encoding': 'br;q=0, *' } })).headers['content-encoding'], 'gzip');
  assert.equal(preferredEncoding(undefined, ['br', 'gzip']), undefined);
  assert.equal(preferredEncoding('', ['br', 'gzip']), undefined);
  assert.equal(preferredEncoding('GZIP', ['br', 'gzip']), 'gzip');
  assert.equal(preferredEncoding('br;q=1.0, gzip;q=1', ['br', 'gzip']), 'br');
  assert.equal(preferredEncoding('br;q=nonsense, gzip;q=0.1', ['br', 'gzip']), 'br');
  assert.equal(preferredEncoding(',,;q=1,deflate', ['br', 'gzip']), undefined);
});

test('index.html and the service worker are compressed but never served from a cache without asking', async () => {
  for (const path of ['/', '/index.html', '/sw.js', '/manifest.webmanifest']) {
    const response = await get(path, { headers: { 'Accept-Encoding': BROWSER, Accept: 'text/html' } });
    assert.equal(response.status, 200, path);
    assert.equal(response.headers['content-encoding'], 'br', path);
    assert.equal(response.headers['cache-control'], 'no-cache', path);
    assert.match(response.headers.vary ?? '', /Accept-Encoding/, path);
  }
  assert.equal(brotliDecompressSync((await get('/', { headers: { 'Accept-Encoding': 'br' } })).body).toString(), INDEX);
});

test('a client-side route gets the compressed index.html, varying by Accept and Accept-Encoding', async () => {
  const response = await get('/rooms/abc', { headers: { 'Accept-Encoding': 'gzip', Accept: 'text/html' } });
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-encoding'], 'gzip');
  assert.equal(response.headers.vary, 'Accept, Accept-Encoding');
  assert.equal(gunzipSync(response.body).toString(), INDEX);
});

test('each encoding has its own ETag, and a revalidation answers 304 only for the same encoding', async () => {
  const br = await get('/sw.js', { headers: { 'Accept-Encoding': 'br' } });
  const gz = await get('/sw.js', { headers: { 'Accept-Encoding': 'gzip' } });
  const plain = await get('/sw.js');
  const tags = new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]);
  assert.equal(tags.size, 3);
  const again = await get('/sw.js', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': /** @type {string} */ (br.headers.etag) } });
  assert.equal(again.status, 304);
  assert.equal(again.headers['content-encoding'], 'br');
  assert.equal(again.body.length, 0);
  const otherEncoding = await get('/sw.js', { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': /** @type {string} */ (br.headers.etag) } });
  assert.equal(otherEncoding.status, 200);
  assert.equal(otherEncoding.headers['content-encoding'], 'gzip');
});

test('HEAD tells the compressed length and sends no body', async () => {
  const full = await get('/assets/room-3f9a1c.js', { headers: { 'Accept-Encoding': 'br' } });
  const head = await get('/assets/room-3f9a1c.js', { method: 'HEAD', headers: { 'Accept-Encoding': 'br' } });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-encoding'], 'br');
  assert.equal(head.headers['content-length'], String(full.body.length));
  assert.equal(head.body.length, 0);
});

test('files without copies (images, tiny scripts) go as they are, without Vary', async () => {
  const image = await get('/icon.png', { headers: { 'Accept-Encoding': BROWSER } });
  assert.equal(image.headers['content-encoding'], undefined);
  assert.equal(image.headers.vary, undefined);
  assert.equal(image.body.length, 2048);
  const tiny = await get('/assets/tiny-aa11.js', { headers: { 'Accept-Encoding': BROWSER } });
  assert.equal(tiny.headers['content-encoding'], undefined);
  assert.equal(tiny.body.toString(), 'export {};');
});

test('a compressed copy that links outside the root is not served; the other encoding is', async () => {
  const response = await get('/assets/linked-0b0b.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(response.body).toString(), SCRIPT);
  const brOnly = await get('/assets/linked-0b0b.js', { headers: { 'Accept-Encoding': 'br' } });
  assert.equal(brOnly.headers['content-encoding'], undefined);
  assert.equal(brOnly.body.toString(), SCRIPT);
});
