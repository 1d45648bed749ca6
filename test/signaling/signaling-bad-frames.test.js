import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinedClients, serverForTest, TestClient } from './signaling-test-client.js';

/** Frames a client might send that the server must refuse, with the code it answers. */
const BAD_FRAMES = /** @type {const} */ ([
  ['not JSON', 'hello', 'bad-json', undefined],
  ['truncated JSON', '{"type":"join","room":', 'bad-json', undefined],
  ['empty text', '', 'bad-json', undefined],
  ['a JSON array', '[{"type":"ping"}]', 'bad-frame', undefined],
  ['a JSON number', '42', 'bad-frame', undefined],
  ['JSON null', 'null', 'bad-frame', undefined],
  ['a JSON string', '"ping"', 'bad-frame', undefined],
  ['an object without type', '{"room":"r"}', 'bad-frame', undefined],
  ['a type that is not a string', '{"type":7}', 'bad-frame', undefined],
  ['an unknown type', '{"type":"subscribe","topics":["r"]}', 'unknown-type', 'subscribe'],
  ['a server frame type', '{"type":"welcome","protocol":1}', 'unknown-type', 'welcome'],
  ['join without room', '{"type":"join","peer":"alice"}', 'bad-frame', 'join'],
  ['join without peer', '{"type":"join","room":"r"}', 'bad-frame', 'join'],
  ['join with a numeric room', '{"type":"join","room":5,"peer":"alice"}', 'bad-frame', 'join'],
  ['join with an empty room', '{"type":"join","room":"","peer":"alice"}', 'bad-frame', 'join'],
  ['join with a room of 129 characters', JSON.stringify({ type: 'join', room: 'r'.repeat(129), peer: 'alice' }), 'bad-frame', 'join'],
  ['join with a room holding a space', '{"type":"join","room":"my room","peer":"alice"}', 'bad-frame', 'join'],
  ['join with a peer id of 65 characters', JSON.stringify({ type: 'join', room: 'r', peer: 'a'.repeat(65) }), 'bad-frame', 'join'],
  ['join with a peer id holding a dot', '{"type":"join","room":"r","peer":"al.ice"}', 'bad-frame', 'join'],
  ['join with an object peer', '{"type":"join","room":"r","peer":{"id":"alice"}}', 'bad-frame', 'join'],
  ['leave without room', '{"type":"leave"}', 'bad-frame', 'leave'],
  ['leave with an array room', '{"type":"leave","room":["r"]}', 'bad-frame', 'leave'],
  ['signal without room', '{"type":"signal","to":"bob","data":1}', 'bad-frame', 'signal'],
  ['signal without to', '{"type":"signal","room":"r","data":1}', 'bad-frame', 'signal'],
  ['signal with a numeric to', '{"type":"signal","room":"r","to":12,"data":1}', 'bad-frame', 'signal'],
  ['signal without data', '{"type":"signal","room":"r","to":"bob"}', 'bad-frame', 'signal'],
  ['signal with data nested 40 deep', `{"type":"signal","room":"r","to":"bob","data":${'['.repeat(40)}${']'.repeat(40)}}`, 'bad-frame', 'signal'],
]);

test('every kind of bad frame is answered with its error code and changes nothing', async (t) => {
  const server = await serverForTest(t, { maxRefusedFrames: 1000 });
  const [alice, bob] = await joinedClients(server, 'r', 'alice', 'bob');
  await alice.next('peer-joined');

  for (const [what, frame, code, ref] of BAD_FRAMES) {
    bob.send(frame);
    const error = await bob.error();
    assert.equal(error.code, code, what);
    assert.equal(error.ref, ref, what);
    assert.equal(typeof error.message, 'string', what);
    assert.ok(error.message.length > 0 && error.message.length <= 500, what);
  }
  await bob.sync();
  await alice.sync();
  assert.deepEqual(alice.pending(), [], 'no bad frame reached anyone');
  assert.equal(server.stats().memberships, 2, 'no bad frame changed the rooms');
  assert.equal(server.stats().refusedFrames, BAD_FRAMES.length);

  // The connection still works.
  bob.send({ type: 'signal', room: 'r', to: 'alice', data: 'still here' });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'r', from: 'bob', data: 'still here' });
});

test('binary frames are refused, even when they hold valid JSON', async (t) => {
  const server = await serverForTest(t);
  const alice = await TestClient.connect(server.url);
  alice.send(Buffer.from(JSON.stringify({ type: 'ping' })));
  assert.deepEqual(await alice.error(), { type: 'error', code: 'bad-frame', message: 'binary frames are not accepted: send JSON text' });
  await alice.sync();
});

test('invalid UTF-8 in a text frame closes that connection with a reason; the server stays up', async (t) => {
  const server = await serverForTest(t);
  const [alice, bob] = await joinedClients(server, 'r', 'alice', 'bob');
  // Bypass the client's own encoding to put raw bytes in a text frame.
  bob.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal((await bob.closed).code, 1007);
  assert.equal((await alice.next('peer-left')).peer, 'bob');
  const carol = await TestClient.connect(server.url);
  assert.deepEqual((await carol.join('r', 'carol')).peers, ['alice']);
});

test('a flood of bad frames from many connections leaves the server serving others', async (t) => {
  const server = await serverForTest(t, { maxRefusedFrames: 5 });
  const [alice] = await joinedClients(server, 'r', 'alice');
  const attackers = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(server.url)));
  for (const attacker of attackers) {
    for (const [, frame] of BAD_FRAMES) attacker.send(frame);
  }
  for (const attacker of attackers) assert.equal((await attacker.closed).code, 1008);
  const bob = await TestClient.connect(server.url);
  await bob.join('r', 'bob');
  bob.send({ type: 'signal', room: 'r', to: 'alice', data: { type: 'offer' } });
  assert.equal((await alice.next('signal')).from, 'bob');
  assert.equal(server.stats().connections, 2);
});
