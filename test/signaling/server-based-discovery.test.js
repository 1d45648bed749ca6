// The browser's signaling client, run against the real server: the client is the contract.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { WebSocket } from 'ws';
import { freePort } from './redis-fixture.js';
import { recordingLogger, startServer, TestClient } from './signaling-test-client.js';

/** @type {string} */
let bundleDir;
/** @type {typeof import('../../src/net/server-based-discovery.js')} */
let client;

before(async () => {
  // Node runs no TypeScript: bundle the client as the browser tests' esbuild step would.
  bundleDir = await mkdtemp(join(tmpdir(), 'ednet-discovery-'));
  const outfile = join(bundleDir, 'server-based-discovery.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('../../src/net/server-based-discovery.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    // As the browser build resolves packages (nanoid's browser entry uses the global crypto).
    conditions: ['browser'],
    mainFields: ['browser', 'module', 'main'],
    target: 'es2022',
    outfile,
    logLevel: 'silent',
  });
  client = await import(pathToFileURL(outfile).href);
});

after(() => rm(bundleDir, { recursive: true, force: true }));

/** A discovery for `nodeId` in `room` that keeps what it hears. @param {string | string[]} url @param {string} room @param {string} nodeId */
function discovery(url, room, nodeId) {
  const logger = recordingLogger();
  const instance = new client.ServerBasedDiscovery({
    ...(Array.isArray(url) ? { urls: url } : { url }),
    room,
    nodeId: /** @type {any} */ (nodeId),
    WebSocketImpl: /** @type {any} */ (WebSocket),
    backoff: { initialMs: 20, maxMs: 200 },
    logger: { ...logger, debug: () => undefined },
  });
  /** @type {import('../../src/net/peer-discovery.js').DiscoveryEvent[]} */
  const events = [];
  /** @type {[string, unknown][]} */
  const signals = [];
  instance.onEvent((event) => events.push(event));
  instance.onSignal((from, data) => signals.push([from, data]));
  return { instance, events, signals, warnings: logger.messages };
}

/** Waits until `check` holds, re-checking on a short tick; fails only after a long while. @param {() => boolean} check @param {string} what */
async function until(check, what) {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('ServerBasedDiscovery joins, discovers, relays signals, and hears peers leave', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = discovery(server.url, 'room-1', 'alice');
  const bob = discovery(server.url, 'room-1', 'bob');
  t.after(() => alice.instance.stop());
  t.after(() => bob.instance.stop());

  await alice.instance.start();
  assert.equal(alice.instance.connectionState, 'connected');
  await bob.instance.start();
  assert.deepEqual(await bob.instance.discoverPeers(), [{ nodeId: 'alice', via: 'webrtc' }]);
  await until(() => alice.events.length === 1, 'alice to discover bob');
  assert.deepEqual(alice.events[0], { type: 'peer-discovered', peerAddress: { nodeId: 'bob', via: 'webrtc' } });

  const offer = { t: 'rtc', v: 1, kind: 'signal', session: 'abc', data: { type: 'offer', sdp: 'v=0\r\n' } };
  bob.instance.sendSignal(/** @type {any} */ ('alice'), offer);
  await until(() => alice.signals.length === 1, 'the signal');
  assert.deepEqual(alice.signals[0], ['bob', offer]);

  await bob.instance.stop();
  await until(() => alice.events.length === 2, 'alice to hear bob left');
  assert.deepEqual(alice.events[1], { type: 'peer-disconnected', peerAddress: { nodeId: 'bob', via: 'webrtc' }, reason: 'left' });
  assert.equal(alice.instance.ignoredFrames, 0, 'the client accepted every frame the server sent');
  assert.equal(bob.instance.ignoredFrames, 0);
  assert.deepEqual(alice.warnings, []);
});

test('ServerBasedDiscovery refused as a taken id retries and gets in once the id is free', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const squatter = await TestClient.connect(server.url);
  await squatter.join('room-1', 'alice');
  const alice = discovery(server.url, 'room-1', 'alice');
  t.after(() => alice.instance.stop());

  // start() settles only once joined or disconnected; neither happens while the id is taken.
  void alice.instance.start();
  await until(() => alice.warnings.filter((message) => message.includes('peer-id-taken')).length >= 3, 'the refusals');
  assert.equal(alice.instance.connectionState, 'connecting');
  await squatter.close();
  await until(() => alice.instance.connectionState === 'connected', 'alice to get in');
  assert.equal(alice.instance.ignoredFrames, 0);
});

test('ServerBasedDiscovery reports peers gone when the server closes, and reconnects to a new one', async (t) => {
  const server = await startServer();
  const alice = discovery(server.url, 'room-1', 'alice');
  const bob = discovery(server.url, 'room-1', 'bob');
  t.after(() => alice.instance.stop());
  t.after(() => bob.instance.stop());
  await alice.instance.start();
  await bob.instance.start();
  await until(() => alice.events.length === 1, 'alice to discover bob');

  await server.close();
  await until(() => alice.events.length === 2 && alice.instance.connectionState !== 'connected', 'alice to lose bob');
  assert.equal(alice.events[1].type, 'peer-disconnected');

  const again = await startServer({ port: server.port });
  t.after(() => again.close());
  await until(() => again.stats().memberships === 2, 'both to rejoin the new server');
  await until(() => alice.events.length === 3, 'alice to discover bob again');
  assert.equal(alice.events[2].type, 'peer-discovered');
});

test('ServerBasedDiscovery with several URLs uses whichever answers', async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  // Nothing listens there: the connection is refused.
  const dead = `ws://127.0.0.1:${await freePort()}/signaling`;
  const alice = discovery([dead, server.url], 'room-1', 'alice');
  t.after(() => alice.instance.stop());
  void alice.instance.start();
  await until(() => alice.instance.connectionState === 'connected', 'alice to get in through the second URL');
  assert.equal(alice.instance.url, server.url);
  assert.equal(server.stats().memberships, 1);
});

test('ServerBasedDiscovery fails over to the next URL when its server goes away', async (t) => {
  const first = await startServer();
  const second = await startServer();
  t.after(() => first.close());
  t.after(() => second.close());
  const bob = discovery(second.url, 'room-1', 'bob');
  t.after(() => bob.instance.stop());
  await bob.instance.start();
  const alice = discovery([first.url, second.url], 'room-1', 'alice');
  t.after(() => alice.instance.stop());
  await alice.instance.start();
  assert.equal(alice.instance.url, first.url);
  assert.deepEqual(await alice.instance.discoverPeers(), []);

  await first.close();
  await until(() => alice.events.some((event) => event.type === 'peer-discovered'), 'alice to reach bob through the second server');
  assert.equal(alice.instance.url, second.url);
  assert.deepEqual(alice.events, [{ type: 'peer-discovered', peerAddress: { nodeId: 'bob', via: 'webrtc' } }]);
});

test('ServerBasedDiscovery takes either url or a non-empty list of ws: URLs', () => {
  const base = { room: 'r', nodeId: /** @type {any} */ ('alice'), WebSocketImpl: /** @type {any} */ (WebSocket) };
  for (const bad of [{}, { url: 'ws://a/s', urls: ['ws://b/s'] }, { urls: [] }, { urls: ['ws://a/s', 'http://b/s'] }, { urls: 'ws://a/s' }]) {
    assert.throws(() => new client.ServerBasedDiscovery(/** @type {any} */ ({ ...base, ...bad })), TypeError, JSON.stringify(bad));
  }
});
