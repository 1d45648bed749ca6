import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import type { DiscoveryEvent, PeerDiscovery, SignalingChannel } from '../../src/net/peer-discovery.js';
import { eventually, uniqueIds, uniqueRoom } from './net-test-helpers.js';

/** A discovery that can also relay connection setup, as every implementation of ours does. */
export type SignalingDiscovery = PeerDiscovery & SignalingChannel;

/** One discovery implementation under test; a fresh fixture per test. */
export interface DiscoveryFixture {
  /** The transport kind the implementation reports peers reachable by. */
  readonly via: string;
  /** A discovery for `nodeId` in `room`; every member of one fixture can reach the others. */
  member(room: string, nodeId: NodeId): SignalingDiscovery;
  /** Stops whatever the fixture made. */
  dispose(): void | Promise<void>;
}

/**
 * Everything every `PeerDiscovery` must do, as one suite; run it with each implementation's
 * fixture. What differs on purpose (how a duplicate node id is refused, how a silent peer is
 * noticed) stays in each implementation's own tests.
 */
export function runDiscoveryContract(name: string, setup: () => DiscoveryFixture | Promise<DiscoveryFixture>): void {
  describe(`PeerDiscovery contract: ${name}`, () => {
    let fixture: DiscoveryFixture;
    let room: string;
    beforeEach(async () => {
      fixture = await setup();
      room = uniqueRoom();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    function member(nodeId: NodeId, inRoom = room) {
      const discovery = fixture.member(inRoom, nodeId);
      const events: DiscoveryEvent[] = [];
      discovery.onEvent((event) => events.push(event));
      return { discovery, events };
    }
    const address = (nodeId: NodeId) => ({ nodeId, via: fixture.via });
    const discovered = (events: DiscoveryEvent[], nodeId: NodeId) =>
      events.some((event) => event.type === 'peer-discovered' && event.peerAddress.nodeId === nodeId);
    const disconnected = (events: DiscoveryEvent[], nodeId: NodeId) =>
      events.some((event) => event.type === 'peer-disconnected' && event.peerAddress.nodeId === nodeId);

    it('members of one room find each other, by event and by discoverPeers; members of other rooms do not', async () => {
      const [alice, bob, carol] = uniqueIds('alice', 'bob', 'carol') as [NodeId, NodeId, NodeId];
      const a = member(alice);
      const b = member(bob);
      const c = member(carol, uniqueRoom());
      await a.discovery.start();
      await c.discovery.start();
      await b.discovery.start();
      await eventually(() => discovered(a.events, bob) && discovered(b.events, alice));
      expect(a.events.find((event) => event.type === 'peer-discovered')).to.deep.equal({ type: 'peer-discovered', peerAddress: address(bob) });
      expect(await a.discovery.discoverPeers()).to.deep.equal([address(bob)]);
      expect(await b.discovery.discoverPeers()).to.deep.equal([address(alice)]);
      expect(c.events, 'events of the member of another room').to.deep.equal([]);
      expect(await c.discovery.discoverPeers()).to.deep.equal([]);
      expect(a.events.filter((event) => event.peerAddress.nodeId === carol), 'carol seen from alice').to.deep.equal([]);
    });

    it('a member that stops is reported gone with a reason, knows no peers, and can come back', async () => {
      const [alice, bob] = uniqueIds('alice', 'bob') as [NodeId, NodeId];
      const a = member(alice);
      const b = member(bob);
      await a.discovery.start();
      await b.discovery.start();
      await eventually(() => discovered(a.events, bob));
      await b.discovery.stop();
      await eventually(() => disconnected(a.events, bob));
      const gone = a.events.find((event) => event.type === 'peer-disconnected');
      expect(gone).to.deep.include({ type: 'peer-disconnected', peerAddress: address(bob) });
      expect(gone?.type === 'peer-disconnected' && gone.reason).to.be.a('string').that.is.not.empty;
      expect(await a.discovery.discoverPeers()).to.deep.equal([]);
      expect(await b.discovery.discoverPeers()).to.deep.equal([]);
      await b.discovery.stop(); // twice is harmless

      const before = a.events.length;
      await b.discovery.start();
      await eventually(() => discovered(a.events.slice(before), bob));
      expect(await a.discovery.discoverPeers()).to.deep.equal([address(bob)]);
    });

    it('relays a signal to the one member it names, as a copy of the data', async () => {
      const [alice, bob, carol] = uniqueIds('alice', 'bob', 'carol') as [NodeId, NodeId, NodeId];
      const a = member(alice);
      const b = member(bob);
      const c = member(carol);
      for (const each of [a, b, c]) await each.discovery.start();
      await eventually(() => discovered(a.events, bob) && discovered(a.events, carol) && discovered(b.events, alice) && discovered(c.events, alice));
      const atBob: Array<[NodeId, unknown]> = [];
      const atCarol: Array<[NodeId, unknown]> = [];
      b.discovery.onSignal((from, data) => atBob.push([from, data]));
      c.discovery.onSignal((from, data) => atCarol.push([from, data]));
      const data = { type: 'offer', sdp: 'v=0', nested: [1, { x: 'y' }] };
      a.discovery.sendSignal(bob, data);
      a.discovery.sendSignal(carol, { type: 'answer' });
      await eventually(() => atBob.length === 1 && atCarol.length === 1);
      expect(atBob).to.deep.equal([[alice, data]]);
      expect(atBob[0]![1], 'the data delivered is a copy').to.not.equal(data);
      expect(atCarol).to.deep.equal([[alice, { type: 'answer' }]]);
    });

    it('a signal to a node that is not in the room is dropped without an error', async () => {
      const [alice, bob, nobody] = uniqueIds('alice', 'bob', 'nobody') as [NodeId, NodeId, NodeId];
      const a = member(alice);
      const b = member(bob);
      await a.discovery.start();
      await b.discovery.start();
      await eventually(() => discovered(a.events, bob));
      const atBob: unknown[] = [];
      b.discovery.onSignal((_from, data) => atBob.push(data));
      expect(() => a.discovery.sendSignal(nobody, { lost: true })).to.not.throw();
      // Order within one path is kept by every implementation: once the second arrives, the first
      // would have arrived too if it had gone anywhere it should not.
      a.discovery.sendSignal(bob, { marker: true });
      await eventually(() => atBob.length === 1);
      expect(atBob).to.deep.equal([{ marker: true }]);
    });

    it('a throwing listener neither stops the others nor the discovery; unsubscribed listeners hear nothing', async () => {
      const [alice, bob, carol] = uniqueIds('alice', 'bob', 'carol') as [NodeId, NodeId, NodeId];
      const a = fixture.member(room, alice);
      a.onEvent(() => {
        throw new Error('listener bug');
      });
      const heard: DiscoveryEvent[] = [];
      a.onEvent((event) => heard.push(event));
      const unheard: DiscoveryEvent[] = [];
      a.onEvent((event) => unheard.push(event))();
      a.onSignal(() => {
        throw new Error('listener bug');
      });
      const signals: unknown[] = [];
      a.onSignal((_from, data) => signals.push(data));
      await a.start();
      const b = member(bob);
      await b.discovery.start();
      await eventually(() => discovered(heard, bob) && discovered(b.events, alice));
      b.discovery.sendSignal(alice, { first: true });
      await eventually(() => signals.length === 1);
      const c = member(carol);
      await c.discovery.start();
      await eventually(() => discovered(heard, carol));
      b.discovery.sendSignal(alice, { second: true });
      await eventually(() => signals.length === 2);
      expect(signals).to.deep.equal([{ first: true }, { second: true }]);
      expect(unheard).to.deep.equal([]);
    });
  });
}
