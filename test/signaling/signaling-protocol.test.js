import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { WebSocket } from 'ws';
import { hubCounts, joinedClients, responseText, serverForTest, startServer, TestClient } from './signaling-test-client.js';

test('welcome announces the protocol version and the limits in force', async (t) => {
  const server = await serverForTest(t, { maxPeersPerRoom: 5, messagesPerSecond: 7 });
  const alice = await TestClient.connect(server.url);
  assert.equal(alice.welcome.protocol, 2);
  assert.match(alice.welcome.challenge, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(alice.welcome.deviceProof, 'optional');
  assert.deepEqual(alice.welcome.limits, {
    maxFrameBytes: 64 * 1024,
    maxRoomsPerConnection: 16,
    maxPeersPerRoom: 5,
    maxPeersPerAddress: 16,
    messagesPerSecond: 7,
    messageBurst: 200,
    heartbeatIntervalMs: 15_000,
  });
});

test('joining lists the peers already there and tells them', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  const carol = await TestClient.connect(server.url);

  assert.deepEqual(await alice.join('room-1', 'alice'), { type: 'joined', room: 'room-1', peer: 'alice', peers: [] });
  assert.deepEqual(await bob.join('room-1', 'bob'), { type: 'joined', room: 'room-1', peer: 'bob', peers: ['alice'] });
  assert.deepEqual(await alice.next('peer-joined'), { type: 'peer-joined', room: 'room-1', peer: 'bob' });
  const joined = await carol.join('room-1', 'carol');
  assert.deepEqual([...joined.peers].sort(), ['alice', 'bob']);
  assert.deepEqual(await alice.next('peer-joined'), { type: 'peer-joined', room: 'room-1', peer: 'carol' });
  assert.deepEqual(await bob.next('peer-joined'), { type: 'peer-joined', room: 'room-1', peer: 'carol' });
  assert.deepEqual(hubCounts(server.stats()), { connections: 3, rooms: 1, memberships: 3, relayedSignals: 0, refusedFrames: 0, rateLimitedFrames: 0 });
});

test('rooms are separate: nobody hears of peers or signals of another room', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  await alice.join('room:a', 'alice');
  assert.deepEqual((await bob.join('room:b', 'bob')).peers, []);
  await bob.sync();
  await alice.sync();
  assert.deepEqual(alice.pending(), []);
  // The same peer id may be used in another room by another connection.
  const other = await TestClient.connect(server.url);
  assert.equal((await other.join('room:b', 'alice')).type, 'joined');
});

test('a signal reaches only its recipient, stamped with the sender the server bound', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob, carol] = await joinedClients(server, 'room-1', 'alice', 'bob', 'carol');
  const offer = { t: 'rtc', v: 1, kind: 'signal', session: 's1', data: { type: 'offer', sdp: 'v=0\r\n' } };

  bob.send({ type: 'signal', room: 'room-1', to: 'alice', data: offer });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'room-1', from: 'bob', data: offer });
  await bob.sync();
  await carol.sync();
  assert.deepEqual(carol.pending().filter((frame) => frame.type === 'signal'), []);
  assert.equal(server.stats().relayedSignals, 1);
});

test('nobody can speak as another peer: a `from` in the frame is ignored', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'room-1', 'alice', 'bob');

  bob.send({ type: 'signal', room: 'room-1', to: 'alice', from: 'carol', data: 'hello' });
  assert.equal((await alice.next('signal')).from, 'bob');
  bob.send({ type: 'signal', room: 'room-1', to: 'alice', from: 'alice', data: 'hello' });
  assert.equal((await alice.next('signal')).from, 'bob');
});

test('a connection in two rooms speaks in each under the id it joined with', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'room-1', 'alice', 'bob');
  await alice.join('room-2', 'alice');
  await bob.join('room-2', 'bob-at-work');

  bob.send({ type: 'signal', room: 'room-2', to: 'alice', data: 1 });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'room-2', from: 'bob-at-work', data: 1 });
  bob.send({ type: 'signal', room: 'room-1', to: 'alice', data: 2 });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'room-1', from: 'bob', data: 2 });
});

test('signals need the sender in the room and the recipient in the same room', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  const bob = await TestClient.connect(server.url);
  const carol = await TestClient.connect(server.url);
  await alice.join('room-1', 'alice');
  await carol.join('room-2', 'carol');

  bob.send({ type: 'signal', room: 'room-1', to: 'alice', data: 'x' });
  assert.deepEqual(await bob.error(), { type: 'error', code: 'not-in-room', message: 'join room room-1 before signaling in it', ref: 'signal' });
  await bob.join('room-1', 'bob');
  bob.send({ type: 'signal', room: 'room-1', to: 'carol', data: 'x' });
  assert.equal((await bob.error()).code, 'unknown-peer');
  bob.send({ type: 'signal', room: 'room-2', to: 'carol', data: 'x' });
  assert.equal((await bob.error()).code, 'not-in-room');
  await bob.sync();
  await carol.sync();
  await alice.sync();
  assert.deepEqual(carol.pending(), []);
  assert.deepEqual(alice.pending().filter((frame) => frame.type === 'signal'), []);
});

test('leaving tells the room, frees the id, and a room left empty is forgotten', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'room-1', 'alice', 'bob');

  bob.send({ type: 'leave', room: 'room-1' });
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'room-1', peer: 'bob', reason: 'left' });
  bob.send({ type: 'leave', room: 'room-1' });
  assert.deepEqual(await bob.error(), { type: 'error', code: 'not-in-room', message: 'not in room room-1', ref: 'leave' });
  alice.send({ type: 'signal', room: 'room-1', to: 'bob', data: 'x' });
  assert.equal((await alice.error()).code, 'unknown-peer');
  assert.deepEqual((await bob.join('room-1', 'bob')).peers, ['alice']);
  assert.deepEqual(await alice.next('peer-joined'), { type: 'peer-joined', room: 'room-1', peer: 'bob' });

  bob.send({ type: 'leave', room: 'room-1' });
  alice.send({ type: 'leave', room: 'room-1' });
  await alice.sync();
  await bob.sync();
  assert.equal(server.stats().rooms, 0);
  assert.equal(server.stats().memberships, 0);
});

test('a closed connection leaves all its rooms, and its peers are told', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'room-1', 'alice', 'bob');
  await alice.join('room-2', 'alice');
  await bob.join('room-2', 'bob');

  await bob.close();
  const left = [await alice.next('peer-left'), await alice.next('peer-left')].sort((a, b) => a.room.localeCompare(b.room));
  assert.deepEqual(left, [
    { type: 'peer-left', room: 'room-1', peer: 'bob', reason: 'disconnected' },
    { type: 'peer-left', room: 'room-2', peer: 'bob', reason: 'disconnected' },
  ]);
  // The id is free again once its connection is gone.
  const bobAgain = await TestClient.connect(server.url);
  assert.deepEqual((await bobAgain.join('room-1', 'bob')).peers, ['alice']);
});

test('an id bound to a live connection cannot be taken by another', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  const mallory = await TestClient.connect(server.url);
  await alice.join('room-1', 'alice');

  assert.deepEqual(await mallory.join('room-1', 'alice'), {
    type: 'error',
    code: 'peer-id-taken',
    message: 'peer alice is already in room room-1 on another connection',
    ref: 'join',
  });
  await mallory.sync();
  await alice.sync();
  assert.deepEqual(alice.pending(), []);
});

test('joining again under the same id repeats `joined`; under another id it is refused', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'room-1', 'alice', 'bob');
  await alice.next('peer-joined');

  assert.deepEqual(await bob.join('room-1', 'bob'), { type: 'joined', room: 'room-1', peer: 'bob', peers: ['alice'] });
  const refused = await bob.join('room-1', 'robert');
  assert.equal(refused.code, 'already-joined');
  assert.equal(refused.ref, 'join');
  await bob.sync();
  await alice.sync();
  assert.deepEqual(alice.pending(), [], 'no second peer-joined');
  assert.equal(server.stats().memberships, 2);
});

test('ping is answered with pong', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  alice.send({ type: 'ping' });
  assert.deepEqual(await alice.next('pong'), { type: 'pong' });
});

test('signal data of any JSON kind is relayed as it was sent', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'r', 'alice', 'bob');
  for (const data of [null, 0, 'text', [1, [2]], { nested: { unicode: 'Grüße ✓', list: [true, false] } }]) {
    bob.send({ type: 'signal', room: 'r', to: 'alice', data });
    assert.deepEqual((await alice.next('signal')).data, data);
  }
});

test('closing the server closes every connection with 1001 and frees the port', async () => {
  const server = await startServer();
  const alice = await TestClient.connect(server.url);
  await alice.join('room-1', 'alice');
  await server.close();
  assert.deepEqual(await alice.closed, { code: 1001, reason: 'server shutting down' });
  const late = new WebSocket(server.url);
  await new Promise((resolve) => late.once('error', resolve));
});

test('the own HTTP server answers /healthz, explains the endpoint, and refuses other upgrades', async (t) => {
  const server = await serverForTest(t);
  const base = `http://127.0.0.1:${server.port}`;
  assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'ok\n' });
  assert.equal((await get(`${base}/signaling`)).status, 426);
  assert.equal((await get(`${base}/elsewhere`)).status, 404);
  const wrongPath = new WebSocket(`ws://127.0.0.1:${server.port}/not-signaling`);
  wrongPath.on('error', () => undefined);
  const response = await new Promise((resolve) => wrongPath.once('unexpected-response', (_request, response) => resolve(response)));
  assert.equal(/** @type {import('node:http').IncomingMessage} */ (response).statusCode, 404);
  wrongPath.terminate();
});

test('attached to an existing HTTP server, it shares the port and leaves the server running on close', async (t) => {
  const { createServer } = await import('node:http');
  const { createSignalingServer } = await import('../../signaling/signaling-server.js');
  const { recordingLogger } = await import('./signaling-test-client.js');
  const http = createServer((_request, response) => response.end('app'));
  t.after(() => new Promise((resolve) => http.close(resolve)));
  const signaling = await createSignalingServer({ server: http, path: '/ws/signal', logger: recordingLogger(), requireDeviceProof: false });
  assert.equal(signaling.url, `ws://127.0.0.1:${signaling.port}/ws/signal`);
  const alice = await TestClient.connect(signaling.url);
  assert.equal((await alice.join('r', 'alice')).type, 'joined');
  assert.deepEqual(await get(`http://127.0.0.1:${signaling.port}/anything`), { status: 200, body: 'app' });

  await signaling.close();
  assert.equal((await alice.closed).code, 1001);
  assert.equal(http.listening, true, 'the HTTP server it was given still listens');
  assert.deepEqual(await get(`http://127.0.0.1:${signaling.port}/anything`), { status: 200, body: 'app' });
});

/** @param {string} url @returns {Promise<{ status: number | undefined, body: string }>} */
async function get(url) {
  const { status, body } = await responseText((onResponse) => request(url, { agent: false }, onResponse));
  return { status, body };
}
