import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisRoomBus } from '../../signaling/redis-room-bus.js';
import { recorder, roomBusContract } from './room-bus-contract.js';
import { startRedis } from './redis-fixture.js';
import { recordingLogger } from './signaling-test-client.js';

/** @type {Awaited<ReturnType<typeof startRedis>>} */
let redis;
let worlds = 0;

before(async () => {
  redis = await startRedis();
});
after(() => redis?.stop());

/**
 * Buses of one world share a key prefix of their own, so tests never see each other's rooms.
 * @param {{ maxPeersPerRoom: number }} options
 */
function redisWorld(options) {
  const keyPrefix = `test${++worlds}:`;
  /** @type {RedisRoomBus[]} */
  const buses = [];
  return {
    /** @param {{ presenceTtlMs?: number }} [own] */
    open(own = {}) {
      const bus = new RedisRoomBus({ url: redis.url, keyPrefix, logger: recordingLogger(), ...options, ...own });
      buses.push(bus);
      return bus;
    },
    async close() {
      await Promise.all(buses.map((bus) => bus.close()));
    },
  };
}

roomBusContract('RedisRoomBus', async (options) => redisWorld(options));

test('RedisRoomBus: closing a bus removes its members and tells the others on other buses', async (t) => {
  const world = redisWorld({ maxPeersPerRoom: 64 });
  t.after(() => world.close());
  const [a, b] = [world.open(), world.open()];
  const alice = recorder();
  await a.join('r', 'alice', alice.inbox);
  await b.join('r', 'bob', recorder().inbox);
  await b.close();
  assert.deepEqual(await alice.count(2), [
    { type: 'peer-joined', peer: 'bob' },
    { type: 'peer-left', peer: 'bob', reason: 'disconnected' },
  ]);
  assert.deepEqual(await a.members('r'), ['alice']);
});

test('RedisRoomBus: the members of a bus that dies expire, and the room is told', async (t) => {
  const world = redisWorld({ maxPeersPerRoom: 64 });
  t.after(() => world.close());
  // The survivor's presence lasts long enough that a busy machine never lets it lapse; it still
  // sweeps the room every third of it. The bus that dies refreshes briefly.
  const [a, b] = [world.open({ presenceTtlMs: 3000 }), world.open({ presenceTtlMs: 600 })];
  const alice = recorder();
  await a.join('r', 'alice', alice.inbox);
  await b.join('r', 'bob', recorder().inbox);
  // A crash: no leave, no more presence refreshes.
  clearInterval(b.refreshTimer);
  b.commands.disconnect();
  b.subscriber.disconnect();
  assert.deepEqual(await alice.count(2), [
    { type: 'peer-joined', peer: 'bob' },
    { type: 'peer-left', peer: 'bob', reason: 'heartbeat-timeout' },
  ]);
  const c = world.open();
  assert.deepEqual(await c.join('r', 'bob', recorder().inbox), { peers: ['alice'] }, 'the id is free again');
});

test('RedisRoomBus: ready rejects when Redis cannot be reached', async () => {
  const bus = new RedisRoomBus({ url: 'redis://127.0.0.1:1', maxPeersPerRoom: 4, logger: recordingLogger() });
  await assert.rejects(bus.ready());
  await bus.close();
});
