import { expect } from 'chai';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { DiscoveryEvent } from '../../src/net/peer-discovery.js';
import { alice, bob, carol, eventually, recordingLogger } from './net-test-helpers.js';

describe('MemoryDiscovery', () => {
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  function member(nodeId: typeof alice, room = 'r') {
    const discovery = new MemoryDiscovery(network, { room, nodeId, logger: recordingLogger() });
    const events: DiscoveryEvent[] = [];
    discovery.onEvent((event) => events.push(event));
    return { discovery, events };
  }

  it('members of one room see each other join and leave; other rooms stay apart', async () => {
    const a = member(alice);
    const b = member(bob);
    const c = member(carol, 'elsewhere');
    await Promise.all([a.discovery.start(), b.discovery.start(), c.discovery.start()]);
    await eventually(() => a.events.length === 1 && b.events.length === 1);
    expect(a.events[0]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: bob, via: 'memory' } });
    expect(await b.discovery.discoverPeers()).to.deep.equal([{ nodeId: alice, via: 'memory' }]);
    expect(c.events).to.deep.equal([]);
    await b.discovery.stop();
    await eventually(() => a.events.length === 2);
    expect(a.events[1]).to.deep.equal({ type: 'peer-disconnected', peerAddress: { nodeId: bob, via: 'memory' }, reason: 'left the room' });
    expect(b.events.at(-1)).to.deep.include({ type: 'peer-disconnected', reason: 'discovery stopped' });
    expect(await a.discovery.discoverPeers()).to.deep.equal([]);
  });

  it('relays signals as JSON copies, only between started members', async () => {
    const a = member(alice);
    const b = member(bob);
    await Promise.all([a.discovery.start(), b.discovery.start()]);
    const received: Array<[string, unknown]> = [];
    b.discovery.onSignal((from, data) => received.push([from, data]));
    const data = { hello: ['x', 1], at: new Date(0) };
    a.discovery.sendSignal(bob, data);
    a.discovery.sendSignal(carol, { lost: true });
    await eventually(() => received.length === 1);
    expect(received[0]).to.deep.equal([alice, { hello: ['x', 1], at: '1970-01-01T00:00:00.000Z' }]);
  });

  it('refuses a second member with the same node id in a room', async () => {
    await member(alice).discovery.start();
    const outcome = await member(alice).discovery.start().then(
      () => 'started',
      () => 'refused',
    );
    expect(outcome).to.equal('refused');
  });
});
