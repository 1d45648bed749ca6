// The caps on connections and on memory held for them: each one answers with its refusal, and
// plain HTTP keeps answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { WebSocket } from 'ws';
import { PATIENCE_MS, startServer, TestClient } from './signaling-test-client.js';

/** GET /healthz on the signaling server's port. @param {number} port @returns {Promise<number | undefined>} */
function healthz(port) {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject);
  });
}

/**
 * Opens a WebSocket and reports how the attempt ended: the close code and reason after the
 * server accepted and closed it, or the HTTP status of a refused upgrade.
 * @param {string} url @param {import('ws').ClientOptions} [options]
 * @returns {Promise<{ code: number, reason: string } | { status: number | undefined }>}
 */
function refusalOf(url, options) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on('unexpected-response', (_request, response) => {
      response.resume();
      resolve({ status: response.statusCode });
      socket.terminate();
    });
    socket.on('message', (data) => {
      // A refused connection is closed before it is greeted.
      if (JSON.parse(String(data)).type === 'welcome') reject(new Error('the connection was accepted'));
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', () => undefined);
  });
}

/** Waits until `check` holds, re-checking on a short tick; fails only after a long while. @param {() => boolean} check @param {string} what */
async function until(check, what) {
  const deadline = Date.now() + PATIENCE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('maxConnections: one more connection is closed with 1013 and a reason; a freed place can be taken', async (t) => {
  const server = await startServer({ maxConnections: 2 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  await TestClient.connect(server.url);
  assert.deepEqual(await refusalOf(server.url), { code: 1013, reason: 'server full: at most 2 connections' });
  assert.equal(await healthz(server.port), 200);
  assert.equal(server.stats().refusedConnections.connections, 1);
  await alice.close();
  await until(() => server.stats().connections === 1, 'the closed connection to be counted out');
  await TestClient.connect(server.url);
});

test('maxConnectionsPerAddress: one more from the same address is closed with 1008; another address still connects', async (t) => {
  const server = await startServer({ maxConnectionsPerAddress: 2 });
  t.after(() => server.close());
  await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  assert.deepEqual(await refusalOf(server.url), { code: 1008, reason: 'too many connections from your address (at most 2)' });
  // Every 127.x.y.z address is this machine's loopback.
  const elsewhere = await TestClient.connect(server.url, { localAddress: '127.0.0.2' });
  assert.equal(elsewhere.welcome.type, 'welcome');
  assert.equal(await healthz(server.port), 200);
  await bob.close();
  await until(() => server.stats().connections === 2, 'the closed connection to be counted out');
  await TestClient.connect(server.url);
});

test('trustProxy: connections are counted per address the proxy appended to X-Forwarded-For', async (t) => {
  const server = await startServer({ maxConnectionsPerAddress: 1, trustProxy: true });
  t.after(() => server.close());
  const through = (/** @type {string} */ forwardedFor) => ({ headers: { 'X-Forwarded-For': forwardedFor } });
  await TestClient.connect(server.url, through('10.0.0.1'));
  // What comes before the proxy's own entry is the client's to write, so it is not believed.
  assert.deepEqual(await refusalOf(server.url, through('10.0.0.9, 10.0.0.1')), { code: 1008, reason: 'too many connections from your address (at most 1)' });
  await TestClient.connect(server.url, through('10.0.0.1, 10.0.0.2'));
});

test('maxPendingBytes: the connection whose unfinished message takes the total past the cap is closed with 1013', async (t) => {
  const server = await startServer({ maxPendingBytes: 100 * 1024 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  const piece = `{"type":"ping","pad":"${'x'.repeat(60 * 1024)}`;
  // A text message sent in fragments and not finished: ws holds it until the last one.
  alice.socket.send(piece, { fin: false });
  await until(() => server.stats().pendingBytes >= 60 * 1024, 'alice’s fragment to be held');
  bob.socket.send(piece, { fin: false });
  assert.deepEqual(await bob.closed, { code: 1013, reason: 'server busy: too much unfinished data held' });
  assert.equal(await healthz(server.port), 200);
  // alice finishes hers: it is answered, and nothing is held any more.
  alice.socket.send('"}', { fin: true });
  await alice.next('pong');
  assert.equal(server.stats().pendingBytes, 0);
  assert.equal(server.stats().refusedConnections.pendingBytes, 1);
});

test('an unfinished message over the per-connection limit (4 × maxFrameBytes) is not buffered: 1009', async (t) => {
  const server = await startServer({ maxFrameBytes: 100 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  alice.socket.send('x'.repeat(300), { fin: false });
  alice.socket.send('x'.repeat(300), { fin: false });
  assert.equal((await alice.closed).code, 1009);
  await until(() => server.stats().pendingBytes === 0, 'the held bytes to be released');
});

test('a message in more fragments than any browser sends closes the connection with 1008', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  for (let i = 0; i < 100; i++) alice.socket.send('x', { fin: false });
  assert.equal((await alice.closed).code, 1008);
  assert.equal(await healthz(server.port), 200);
});

test('file descriptors: short of the reserve, upgrades are answered 503 while /healthz still answers', async (t) => {
  // Room for three TCP connections beyond the reserve.
  const server = await startServer({ fileDescriptorLimit: 256 + 3, fileDescriptorReserve: 256 });
  t.after(() => server.close());
  await TestClient.connect(server.url);
  await TestClient.connect(server.url);
  await TestClient.connect(server.url);
  assert.deepEqual(await refusalOf(server.url), { status: 503 });
  assert.equal(await healthz(server.port), 200);
  assert.equal(server.stats().refusedConnections.fileDescriptors, 1);
});

test('the caps are checked when the server starts', async () => {
  for (const bad of [{ maxConnections: 0 }, { trustProxy: 'yes' }, { maxConnectionsPerAddress: 1.5 }, { maxPendingBytes: -1 }, { fileDescriptorLimit: 100 }, { fileDescriptorReserve: 0 }]) {
    await assert.rejects(startServer(/** @type {any} */ (bad)), /createSignalingServer: /, JSON.stringify(bad));
  }
});
