// The contract every room bus keeps (signaling/room-bus.js), run against each implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';

/** Long enough for a slow, shared machine: waits end on events, this only stops a hung test. */
const PATIENCE_MS = 20_000;

/** @typedef {import('../../signaling/room-bus.js').RoomBus} RoomBus */
/** @typedef {import('../../signaling/room-bus.js').MemberEvent} MemberEvent */

/**
 * A member's inbox that keeps what it receives and lets a test wait for it.
 */
export function recorder() {
  /** @type {MemberEvent[]} */
  const events = [];
  /** @type {(() => void)[]} */
  const wakers = [];
  return {
    events,
    /** @param {MemberEvent} event */
    inbox: (event) => {
      events.push(event);
      for (const wake of wakers.splice(0)) wake();
    },
    /** Waits until `count` events have arrived. @param {number} count */
    async count(count) {
      const deadline = Date.now() + PATIENCE_MS;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`waited for ${count} events, have ${JSON.stringify(events)}`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, 500);
          wakers.push(() => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
      return events.slice(0, count);
    },
  };
}

/**
 * Registers the contract tests. `setup` opens a fresh world for one test: `open()` returns a bus
 * that shares rooms with every other bus of that world (for one-process buses, the same bus).
 * @param {string} name
 * @param {(options: { maxPeersPerRoom: number }) => Promise<{ open(): RoomBus, close(): Promise<void> }>} setup
 */
export function roomBusContract(name, setup) {
  /** @param {import('node:test').TestContext} t @param {number} [maxPeersPerRoom] */
  async function world(t, maxPeersPerRoom = 64) {
    const opened = await setup({ maxPeersPerRoom });
    t.after(() => opened.close());
    return opened;
  }

  test(`${name}: a join answers the others, who are told; the joiner is not told of itself`, async (t) => {
    const { open } = await world(t);
    const [a, b] = [open(), open()];
    const alice = recorder();
    const bob = recorder();
    assert.deepEqual(await a.join('r', 'alice', alice.inbox), { peers: [] });
    assert.deepEqual(await b.join('r', 'bob', bob.inbox), { peers: ['alice'] });
    assert.deepEqual(await alice.count(1), [{ type: 'peer-joined', peer: 'bob' }]);
    assert.deepEqual((await a.members('r')).sort(), ['alice', 'bob']);
    assert.deepEqual(await b.members('elsewhere'), []);
    // bob's own join is never echoed to him: a later event is the first he hears.
    await a.leave('r', 'alice', 'left');
    assert.deepEqual(await bob.count(1), [{ type: 'peer-left', peer: 'alice', reason: 'left' }]);
  });

  test(`${name}: a peer id is held once per room, and a room holds at most maxPeersPerRoom, across buses`, async (t) => {
    const { open } = await world(t, 2);
    const [a, b] = [open(), open()];
    assert.deepEqual(await a.join('r', 'alice', recorder().inbox), { peers: [] });
    assert.deepEqual(await b.join('r', 'alice', recorder().inbox), { refused: 'peer-id-taken' });
    assert.deepEqual(await a.join('r', 'alice', recorder().inbox), { refused: 'peer-id-taken' });
    assert.deepEqual(await b.join('other', 'alice', recorder().inbox), { peers: [] }, 'the same id in another room is fine');
    assert.deepEqual(await b.join('r', 'bob', recorder().inbox), { peers: ['alice'] });
    assert.deepEqual(await a.join('r', 'carol', recorder().inbox), { refused: 'room-full' });
    await b.leave('r', 'bob', 'left');
    assert.deepEqual(await a.join('r', 'carol', recorder().inbox), { peers: ['alice'] }, 'a place freed can be taken');
    await a.leave('r', 'alice', 'left');
    assert.deepEqual(await b.join('r', 'alice', recorder().inbox), { peers: ['carol'] }, 'an id freed can be taken');
  });

  test(`${name}: a signal reaches its member on any bus, stamped with the sender; an absent one is reported`, async (t) => {
    const { open } = await world(t);
    const [a, b] = [open(), open()];
    const alice = recorder();
    const bob = recorder();
    await a.join('r', 'alice', alice.inbox);
    await b.join('r', 'bob', bob.inbox);
    assert.equal(await a.signal('r', 'alice', 'bob', { sdp: 'offer', n: [1, 2] }), true, 'a signal to a member is delivered');
    assert.equal(await b.signal('r', 'bob', 'alice', 'answer'), true, 'the answer to a member is delivered');
    assert.deepEqual(await bob.count(1), [{ type: 'signal', from: 'alice', data: { sdp: 'offer', n: [1, 2] } }]);
    assert.deepEqual((await alice.count(2))[1], { type: 'signal', from: 'bob', data: 'answer' });
    assert.equal(await a.signal('r', 'alice', 'nobody', 1), false, 'a signal to a non-member is delivered');
    assert.equal(await a.signal('other-room', 'alice', 'bob', 1), false, 'a signal in a room the sender did not join is delivered');
    await b.leave('r', 'bob', 'left');
    assert.equal(await a.signal('r', 'alice', 'bob', 1), false, 'a member that left is absent');
  });

  test(`${name}: a member hears the room's events in the order they happened, and nothing after it leaves`, async (t) => {
    const { open } = await world(t);
    const [a, b] = [open(), open()];
    const alice = recorder();
    const dave = recorder();
    const bob = recorder();
    await a.join('r', 'alice', alice.inbox);
    await b.join('r', 'bob', bob.inbox);
    await b.join('r', 'carol', recorder().inbox);
    await b.leave('r', 'bob', 'too-slow');
    await b.signal('r', 'carol', 'alice', 'hi');
    assert.deepEqual(await alice.count(4), [
      { type: 'peer-joined', peer: 'bob' },
      { type: 'peer-joined', peer: 'carol' },
      { type: 'peer-left', peer: 'bob', reason: 'too-slow' },
      { type: 'signal', from: 'carol', data: 'hi' },
    ]);
    const bobHeard = bob.events.length;
    // dave shares alice's bus: once he has heard of erin, so would alice have, had she stayed.
    await a.join('r', 'dave', dave.inbox);
    assert.deepEqual((await alice.count(5))[4], { type: 'peer-joined', peer: 'dave' });
    await a.leave('r', 'alice', 'left');
    await b.join('r', 'erin', recorder().inbox);
    assert.deepEqual(await dave.count(2), [
      { type: 'peer-left', peer: 'alice', reason: 'left' },
      { type: 'peer-joined', peer: 'erin' },
    ]);
    assert.equal(alice.events.length, 5, `alice heard after leaving: ${JSON.stringify(alice.events.slice(5))}`);
    assert.equal(bob.events.length, bobHeard, 'bob heard after leaving');
  });

  test(`${name}: concurrent joins on several buses: everyone learns of everyone exactly once`, async (t) => {
    const { open } = await world(t);
    const buses = [open(), open(), open()];
    const names = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const inboxes = names.map(() => recorder());
    const results = await Promise.all(names.map((peer, i) => buses[i % buses.length].join('r', peer, inboxes[i].inbox)));
    await Promise.all(
      names.map(async (peer, i) => {
        const result = /** @type {{ peers: string[] }} */ (results[i]);
        const joinedLater = names.length - 1 - result.peers.length;
        const events = await inboxes[i].count(joinedLater);
        const heard = [...result.peers, ...events.map((event) => (event.type === 'peer-joined' ? event.peer : `unexpected ${event.type}`))];
        assert.deepEqual(heard.sort(), names.filter((other) => other !== peer).sort(), `what ${peer} heard`);
      }),
    );
  });
}
