// Two signaling instances sharing rooms through a real redis-server started by the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedis } from './redis-fixture.js';
import { PATIENCE_MS, recordingLogger, startServer, TestClient } from './signaling-test-client.js';

/** @type {Awaited<ReturnType<typeof startRedis>>} */
let redis;

before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

/** Two instances on one Redis, closed after the test. @param {import('node:test').TestContext} t @param {object} [options] */
async function twoInstances(t, options = {}) {
  const shared = { redisUrl: redis.url, ...options };
  const a = await startServer(shared);
  t.after(() => a.close());
  const b = await startServer(shared);
  t.after(() => b.close());
  return [a, b];
}

test('two peers on different instances find each other and relay signals', async (t) => {
  const [a, b] = await twoInstances(t);
  const alice = await TestClient.connect(a.url);
  const bob = await TestClient.connect(b.url);
  assert.deepEqual(await alice.join('r', 'alice'), { type: 'joined', room: 'r', peer: 'alice', peers: [] });
  assert.deepEqual(await bob.join('r', 'bob'), { type: 'joined', room: 'r', peer: 'bob', peers: ['alice'] });
  assert.deepEqual(await alice.next('peer-joined'), { type: 'peer-joined', room: 'r', peer: 'bob' });

  alice.send({ type: 'signal', room: 'r', to: 'bob', data: { kind: 'offer', sdp: 'v=0' } });
  assert.deepEqual(await bob.next('signal'), { type: 'signal', room: 'r', from: 'alice', data: { kind: 'offer', sdp: 'v=0' } });
  bob.send({ type: 'signal', room: 'r', to: 'alice', from: 'mallory', data: 'answer' });
  assert.deepEqual(await alice.next('signal'), { type: 'signal', room: 'r', from: 'bob', data: 'answer' }, 'from is stamped by the server');
  bob.send({ type: 'signal', room: 'r', to: 'nobody', data: 1 });
  assert.equal((await bob.error()).code, 'unknown-peer');
  assert.equal(a.stats().relayedSignals + b.stats().relayedSignals, 2);

  bob.send({ type: 'leave', room: 'r' });
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'left' });
  assert.deepEqual((await bob.join('r', 'bob')).peers, ['alice']);
  await bob.close();
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'disconnected' });
});

test('peer ids are unique and room caps hold across instances', async (t) => {
  const [a, b] = await twoInstances(t, { maxPeersPerRoom: 2 });
  const alice = await TestClient.connect(a.url);
  const impostor = await TestClient.connect(b.url);
  const carol = await TestClient.connect(b.url);
  await alice.join('r', 'alice');
  assert.equal((await impostor.join('r', 'alice')).code, 'peer-id-taken');
  assert.equal((await impostor.join('r', 'bob')).type, 'joined');
  assert.deepEqual(await carol.join('r', 'carol'), { type: 'error', code: 'room-full', message: 'room r holds at most 2 peers', ref: 'join' });
});

test('when an instance stops, its peers leave the rooms of the other instances', async (t) => {
  const [a, b] = await twoInstances(t);
  const alice = await TestClient.connect(a.url);
  const bob = await TestClient.connect(b.url);
  await alice.join('r', 'alice');
  await bob.join('r', 'bob');
  await b.close();
  assert.equal((await bob.closed).code, 1001);
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'disconnected' });
  // bob reconnects to the instance still up, under the same id.
  const again = await TestClient.connect(a.url);
  assert.deepEqual((await again.join('r', 'bob')).peers, ['alice']);
});

test('when an instance dies without a word, its peers expire and the others are told', async (t) => {
  // The survivor's own presence lasts long enough that a busy machine never lets it lapse; it
  // still sweeps the room (every third of its TTL) for the members that expired.
  const a = await startServer({ redisUrl: redis.url, presenceTtlMs: 5000 });
  t.after(() => a.close());
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/signaling-instance.js', import.meta.url))], {
    env: { ...process.env, REDIS_URL: redis.url, PRESENCE_TTL_MS: '600' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  const { url } = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the instance did not start')), PATIENCE_MS);
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (!output.includes('\n')) return;
      clearTimeout(timer);
      resolve(JSON.parse(output.split('\n')[0]));
    });
    child.once('exit', (code) => reject(new Error(`the instance exited with ${code}`)));
  });
  const alice = await TestClient.connect(a.url);
  const bob = await TestClient.connect(url);
  await alice.join('r', 'alice');
  await bob.join('r', 'bob');
  assert.deepEqual(await alice.next('peer-joined'), { type: 'peer-joined', room: 'r', peer: 'bob' });
  child.kill('SIGKILL');
  await exited;
  assert.deepEqual(await alice.next('peer-left'), { type: 'peer-left', room: 'r', peer: 'bob', reason: 'heartbeat-timeout' });
});

test('an instance that cannot reach Redis does not start', async () => {
  await assert.rejects(startServer({ redisUrl: 'redis://127.0.0.1:1', logger: recordingLogger() }));
});

test('while Redis is unreachable, joins are refused as unavailable and the connection stays open', async (t) => {
  const own = await startRedis();
  t.after(() => own.stop());
  const server = await startServer({ redisUrl: own.url });
  t.after(() => server.close());
  const alice = await TestClient.connect(server.url);
  assert.equal((await alice.join('r', 'alice')).type, 'joined');
  await own.stop();
  const refused = await alice.join('r2', 'alice');
  assert.deepEqual(refused, { type: 'error', code: 'unavailable', message: 'rooms are unavailable for now; try again', ref: 'join' });
  await alice.sync();
});
