// Signaling that only the devices themselves can use under their ids: every client proves its
// node id with the Ed25519 key the id is derived from, and one address cannot fill a room. Real
// WebSocket clients against the real server; device keys made here, ids derived as browsers do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { device } from './signaling-device.js';
import { startServer, TestClient } from './signaling-test-client.js';

const TOPIC = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Connects from `address` (the server trusts X-Forwarded-For in these tests) and, given a device,
 * proves it.
 * @param {string} url
 * @param {string} address
 * @param {ReturnType<typeof device>} [as]
 */
async function connect(url, address, as) {
  const client = await TestClient.connect(url, { headers: { 'x-forwarded-for': address } });
  if (as) {
    client.send(as.proof(client.welcome.challenge));
    assert.deepEqual(await client.next('authenticated'), { type: 'authenticated', device: as.id });
  }
  return client;
}

const MEMBER_ADDRESS = '198.51.100.2';
const OUTSIDER_ADDRESS = '203.0.113.7';

test('the welcome asks for a proof; a join without one is refused', async (t) => {
  const server = await startServer({ requireDeviceProof: true, trustProxy: true });
  t.after(() => server.close());
  const outsider = await connect(server.url, OUTSIDER_ADDRESS);
  assert.equal(outsider.welcome.deviceProof, 'required');
  assert.match(outsider.welcome.challenge, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(await outsider.join(TOPIC, device().tab('abcdefgh')), {
    type: 'error',
    code: 'not-authenticated',
    message: 'prove your device first: answer the welcome challenge with an auth frame',
    ref: 'join',
  });
  assert.equal(server.stats().memberships, 0);
});

test("nobody can take a member's id: not with another key, not with a replayed proof, not while the member reloads", async (t) => {
  const server = await startServer({ requireDeviceProof: true, trustProxy: true });
  t.after(() => server.close());
  const alice = device();
  const aliceId = alice.tab('tab00001');
  const member = await connect(server.url, MEMBER_ADDRESS, alice);
  assert.equal((await member.join(TOPIC, aliceId)).type, 'joined');

  // An outsider with a key of its own proves that key, not Alice's.
  const outsider = await connect(server.url, OUTSIDER_ADDRESS, device());
  assert.equal((await outsider.join(TOPIC, aliceId)).code, 'not-your-id');
  assert.equal((await outsider.join(TOPIC, alice.id)).code, 'not-your-id');

  // Alice's proof, replayed on another connection, signs that connection's challenge, not this one's.
  const replayer = await connect(server.url, OUTSIDER_ADDRESS);
  replayer.send(alice.proof(member.welcome.challenge));
  assert.equal((await replayer.error()).code, 'auth-failed');
  assert.equal((await replayer.join(TOPIC, aliceId)).code, 'not-authenticated');

  // A forged signature (right key, wrong bytes) fails too.
  const forger = await connect(server.url, OUTSIDER_ADDRESS);
  forger.send({ ...alice.proof(forger.welcome.challenge), signature: Buffer.alloc(64, 1).toString('base64url') });
  assert.equal((await forger.error()).code, 'auth-failed');

  // Alice reloads: her old socket is not gone yet, and her new connection takes her id back.
  const bob = device();
  const bobClient = await connect(server.url, MEMBER_ADDRESS, bob);
  await bobClient.join(TOPIC, bob.id);
  const reloaded = await connect(server.url, MEMBER_ADDRESS, alice);
  const joined = await reloaded.join(TOPIC, aliceId);
  assert.deepEqual(joined, { type: 'joined', room: TOPIC, peer: aliceId, peers: [bob.id] });
  assert.deepEqual(await bobClient.next('peer-left'), { type: 'peer-left', room: TOPIC, peer: aliceId, reason: 'replaced' });
  assert.deepEqual(await bobClient.next('peer-joined'), { type: 'peer-joined', room: TOPIC, peer: aliceId });
  // Signals for Alice now reach the new connection only.
  bobClient.send({ type: 'signal', room: TOPIC, to: aliceId, data: { n: 1 } });
  assert.deepEqual(await reloaded.next('signal'), { type: 'signal', room: TOPIC, from: bob.id, data: { n: 1 } });
  await member.sync();
  assert.deepEqual(member.pending().filter((frame) => frame.type === 'signal'), []);
  for (const client of [member, outsider, replayer, forger, bobClient, reloaded]) await client.close();
});

test('one address cannot fill a room: members from other addresses still get in', async (t) => {
  const server = await startServer({ requireDeviceProof: true, trustProxy: true, maxPeersPerRoom: 8, maxPeersPerAddress: 3 });
  t.after(() => server.close());
  const outsiders = [];
  const refusals = [];
  for (let i = 0; i < 5; i++) {
    const as = device();
    const client = await connect(server.url, OUTSIDER_ADDRESS, as);
    outsiders.push(client);
    const answer = await client.join(TOPIC, as.id);
    if (answer.type === 'error') refusals.push(answer.code);
  }
  assert.deepEqual(refusals, ['too-many-from-address', 'too-many-from-address']);
  const members = [];
  for (const address of [MEMBER_ADDRESS, '192.0.2.10', '192.0.2.11']) {
    const as = device();
    const client = await connect(server.url, address, as);
    members.push(client);
    assert.equal((await client.join(TOPIC, as.id)).type, 'joined', address);
  }
  assert.equal(server.stats().memberships, 6);
  for (const client of [...outsiders, ...members]) await client.close();
});

test('without trustProxy a forged X-Forwarded-For changes nothing: every client counts by its socket', async (t) => {
  const server = await startServer({ requireDeviceProof: true, maxPeersPerAddress: 1 });
  t.after(() => server.close());
  const first = device();
  const second = device();
  const a = await connect(server.url, '192.0.2.1', first);
  const b = await connect(server.url, '192.0.2.2', second);
  assert.equal((await a.join(TOPIC, first.id)).type, 'joined');
  assert.equal((await b.join(TOPIC, second.id)).code, 'too-many-from-address');
  await a.close();
  await b.close();
});
