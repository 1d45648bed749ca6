import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSignalingServer } from '../../signaling/signaling-server.js';
import { hubCounts, recordingLogger, startServer, TestClient } from './signaling-test-client.js';

/** A clock the test moves by hand, so rate limits never depend on how fast the machine is. */
function manualClock() {
  const clock = { ms: 0, now: () => clock.ms };
  return clock;
}

test('a frame over maxFrameBytes is refused and the connection stays usable', async (t) => {
  const server = await startServer({ maxFrameBytes: 100 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const frameOf = (/** @type {number} */ bytes) => {
    const base = JSON.stringify({ type: 'ping', pad: '' });
    return JSON.stringify({ type: 'ping', pad: 'x'.repeat(bytes - base.length) });
  };
  assert.equal(frameOf(100).length, 100);

  alice.send(frameOf(100));
  await alice.next('pong');
  alice.send(frameOf(101));
  assert.deepEqual(await alice.error(), { type: 'error', code: 'frame-too-large', message: 'frame of 101 bytes exceeds the limit of 100' });
  // Counted in bytes, not characters.
  alice.send(JSON.stringify({ type: 'ping', pad: 'é'.repeat(40) }));
  assert.equal((await alice.error()).code, 'frame-too-large');
  await alice.sync();
});

test('a frame far over the limit closes the connection with 1009 instead of being read whole', async (t) => {
  const server = await startServer({ maxFrameBytes: 100 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  await alice.join('r', 'alice');
  await bob.join('r', 'bob');
  bob.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(1000) }));
  assert.equal((await bob.closed).code, 1009);
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'disconnected' });
  await alice.sync();
});

test('maxRoomsPerConnection caps the rooms one connection is in', async (t) => {
  const server = await startServer({ maxRoomsPerConnection: 2 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  assert.equal((await alice.join('room-a', 'alice')).type, 'joined');
  assert.equal((await alice.join('room-b', 'alice')).type, 'joined');
  assert.deepEqual(await alice.join('room-c', 'alice'), {
    type: 'error',
    code: 'too-many-rooms',
    message: 'a connection may be in at most 2 rooms',
    ref: 'join',
  });
  alice.send({ type: 'leave', room: 'room-a' });
  assert.equal((await alice.join('room-c', 'alice')).type, 'joined');
  assert.equal(server.stats().memberships, 2);
});

test('maxPeersPerRoom caps a room; a place freed can be taken', async (t) => {
  const server = await startServer({ maxPeersPerRoom: 2 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  const carol = await TestClient.connect(server.url);
  await alice.join('r', 'alice');
  await bob.join('r', 'bob');
  assert.deepEqual(await carol.join('r', 'carol'), { type: 'error', code: 'room-full', message: 'room r holds at most 2 peers', ref: 'join' });
  await carol.sync();
  await alice.sync();
  assert.deepEqual(alice.pending(), [{ type: 'peer-joined', room: 'r', peer: 'bob' }], 'nobody is told of a refused join');

  await bob.close();
  assert.deepEqual((await carol.join('r', 'carol')).peers, ['alice']);
});

test('frames over the rate are dropped, answered once per run, and accepted again after a pause', async (t) => {
  const clock = manualClock();
  const server = await startServer({ messagesPerSecond: 1, messageBurst: 3, now: clock.now });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  for (let i = 0; i < 5; i++) alice.send({ type: 'ping' });
  for (let i = 0; i < 3; i++) await alice.next('pong');
  const limited = await alice.error();
  assert.equal(limited.code, 'rate-limited');
  assert.equal(limited.ref, undefined);

  clock.ms += 1000;
  alice.send({ type: 'ping' });
  await alice.next('pong');
  assert.deepEqual(alice.pending(), [], 'the fifth frame was dropped without a second error');
  assert.equal(server.stats().rateLimitedFrames, 2);
});

test('a connection that keeps flooding is closed with 1008 and its rooms are told', async (t) => {
  const clock = manualClock();
  const server = await startServer({ messagesPerSecond: 1, messageBurst: 3, now: clock.now });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  await alice.join('r', 'alice');
  await bob.join('r', 'bob');
  // bob has spent 1 of 3; 2 more pass, then 4 dropped frames exceed a whole burst.
  for (let i = 0; i < 6; i++) bob.send({ type: 'ping' });
  assert.deepEqual(await bob.closed, { code: 1008, reason: 'message rate exceeded' });
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'disconnected' });
});

test('a connection that keeps sending malformed frames is closed with 1008', async (t) => {
  const clock = manualClock();
  const server = await startServer({ maxRefusedFrames: 3, now: clock.now });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  for (let i = 0; i < 3; i++) {
    alice.send('not json');
    assert.equal((await alice.error()).code, 'bad-json');
  }
  // Refusals recover with time: after a minute three more are allowed.
  clock.ms += 60_000;
  for (let i = 0; i < 3; i++) {
    alice.send({ type: 'nonsense' });
    assert.equal((await alice.error()).code, 'unknown-type');
  }
  await alice.sync();
  alice.send({ type: 'join', room: 'r' });
  assert.equal((await alice.error()).code, 'bad-frame');
  assert.deepEqual(await alice.closed, { code: 1008, reason: 'too many malformed frames (last: bad-frame)' });
});

test('refusals of well-formed frames (full room, taken id, unknown peer) never close the connection', async (t) => {
  const clock = manualClock();
  const server = await startServer({ maxRefusedFrames: 2, maxPeersPerRoom: 1, now: clock.now });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  await alice.join('r', 'alice');
  for (let i = 0; i < 5; i++) {
    assert.equal((await bob.join('r', 'alice')).code, 'peer-id-taken');
    assert.equal((await bob.join('r', 'bob')).code, 'room-full');
    bob.send({ type: 'signal', room: 'r', to: 'alice', data: 1 });
    assert.equal((await bob.error()).code, 'not-in-room');
  }
  await alice.close();
  assert.equal((await bob.join('r', 'bob')).type, 'joined');
});

test('a peer that stops answering heartbeats is removed and its room is told', async (t) => {
  // Generous on purpose: the live peer must answer a ping within two periods even on a busy machine.
  const server = await startServer({ heartbeatIntervalMs: 250 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const ghost = await TestClient.connect(server.url, { autoPong: false });
  await alice.join('r', 'alice');
  await ghost.join('r', 'ghost');
  await ghost.join('r2', 'ghost');

  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'ghost', reason: 'heartbeat-timeout' });
  assert.equal((await ghost.closed).code, 1006, 'the dead connection is cut, not closed politely');
  assert.deepEqual(hubCounts(server.stats()), { connections: 1, rooms: 1, memberships: 1, relayedSignals: 0, refusedFrames: 0, rateLimitedFrames: 0 });
  await alice.sync();
});

test('a peer that does not read its frames is dropped once its queue outgrows maxBufferedBytes', async (t) => {
  const server = await startServer({ maxBufferedBytes: 64 * 1024, maxFrameBytes: 32 * 1024, messagesPerSecond: 10_000, messageBurst: 10_000 });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  const sleepy = await TestClient.connect(server.url);
  await alice.join('r', 'alice');
  await sleepy.join('r', 'sleepy');
  sleepy.socket.pause();
  const data = 'x'.repeat(30_000);
  // Each signal is about 30 KB; the kernel buffers some, the server queue the rest until the cap.
  let sent = 0;
  const left = alice.next('peer-left');
  const pump = setInterval(() => {
    for (let i = 0; i < 20 && sent < 5000; i++, sent++) alice.send({ type: 'signal', room: 'r', to: 'sleepy', data });
  }, 10);
  t.after(() => clearInterval(pump));
  assert.deepEqual(await left, { type: 'peer-left', room: 'r', peer: 'sleepy', reason: 'too-slow' });
  clearInterval(pump);
});

test('every limit is checked when the server starts: bad configuration throws', async () => {
  const logger = recordingLogger();
  for (const bad of [
    { port: -1 },
    { port: 70_000 },
    { host: '' },
    { path: 'signaling' },
    { path: '/sig naling' },
    { maxFrameBytes: 0 },
    { maxRoomsPerConnection: 1.5 },
    { maxPeersPerRoom: -3 },
    { messagesPerSecond: 0 },
    { messageBurst: Number.NaN },
    { heartbeatIntervalMs: Infinity },
    { heartbeatIntervalMs: 2 ** 31 },
    { maxRefusedFrames: 0 },
    { maxBufferedBytes: '1' },
    { maxBufferedBytes: 1000, maxFrameBytes: 600 },
    { logger: {} },
    { now: 5 },
    { server: {} },
  ]) {
    await assert.rejects(createSignalingServer(/** @type {any} */ ({ logger, ...bad })), /createSignalingServer: /, JSON.stringify(bad));
  }
});
