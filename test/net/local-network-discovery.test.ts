import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { discoveryChannelName, LocalNetworkDiscovery } from '../../src/net/local-network-discovery.js';
import type { DiscoveryEvent } from '../../src/net/peer-discovery.js';
import { eventually, recordingLogger, uniqueIds, uniqueRoom } from './net-test-helpers.js';

describe('LocalNetworkDiscovery (two instances in one page share a BroadcastChannel)', () => {
  let room: string;
  const started: LocalNetworkDiscovery[] = [];
  const channels: BroadcastChannel[] = [];
  beforeEach(() => {
    room = uniqueRoom();
  });
  afterEach(async () => {
    for (const discovery of started.splice(0)) await discovery.stop();
    for (const channel of channels.splice(0)) channel.close();
  });

  function member(nodeId: NodeId, heartbeatMs = 5000) {
    const logger = recordingLogger();
    const discovery = new LocalNetworkDiscovery({ room, nodeId, heartbeatMs, logger, watchPage: false });
    const events: DiscoveryEvent[] = [];
    discovery.onEvent((event) => events.push(event));
    started.push(discovery);
    return { discovery, events, logger };
  }

  /** A raw channel on the room's discovery channel, to speak the protocol (or garble it) by hand. */
  function rawChannel(): BroadcastChannel {
    const channel = new BroadcastChannel(discoveryChannelName(room));
    channels.push(channel);
    return channel;
  }

  it('two tabs see each other, relay signals, and see each other leave', async () => {
    const [alice, bob] = uniqueIds('alice', 'bob');
    const a = member(alice!);
    const b = member(bob!);
    await a.discovery.start();
    await b.discovery.start();
    await eventually(() => a.events.length === 1 && b.events.length === 1);
    expect(a.events[0]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: bob, via: 'broadcast' } });
    expect(b.events[0]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: alice, via: 'broadcast' } });

    const signals: Array<[NodeId, unknown]> = [];
    b.discovery.onSignal((from, data) => signals.push([from, data]));
    a.discovery.sendSignal(bob!, { sdp: 'x' });
    await eventually(() => signals.length === 1);
    expect(signals[0]).to.deep.equal([alice, { sdp: 'x' }]);

    await b.discovery.stop();
    await eventually(() => a.events.length === 2);
    expect(a.events[1]).to.deep.equal({ type: 'peer-disconnected', peerAddress: { nodeId: bob, via: 'broadcast' }, reason: 'left the room' });
    expect(await a.discovery.discoverPeers()).to.deep.equal([]);
  });

  it('ignores and counts malformed messages, and drops oversized signals', async () => {
    const [alice] = uniqueIds('alice');
    const a = member(alice!);
    await a.discovery.start();
    const channel = rawChannel();
    const junk: unknown[] = [
      'text',
      null,
      { v: 2, t: 'hello', from: 'x' },
      { v: 1, t: 'hello', from: 'bad id!' },
      { v: 1, t: 'here', from: 'x' },
      { v: 1, t: 'signal', from: 'x', to: alice },
      { v: 1, t: 'shout', from: 'x' },
      { v: 1, t: 'signal', from: 'x', to: alice, data: 'y'.repeat(70_000) },
    ];
    for (const message of junk) channel.postMessage(message);
    await eventually(() => a.discovery.ignoredMessages === junk.length);
    // The oversized signal's sender was still seen (its envelope was fine); nothing else was.
    expect(a.events.map((event) => event.peerAddress.nodeId)).to.deep.equal(['x']);
  });

  it('forgets a tab that stops answering (crashed without goodbye)', async () => {
    const [alice, ghost] = uniqueIds('alice', 'ghost');
    const a = member(alice!, 40);
    await a.discovery.start();
    rawChannel().postMessage({ v: 1, t: 'hello', from: ghost });
    await eventually(() => a.events.length === 2);
    expect(a.events[0]).to.deep.include({ type: 'peer-discovered' });
    expect(a.events[1]).to.deep.include({ type: 'peer-disconnected', reason: 'stopped answering (tab closed or crashed)' });
  });

  it('warns when another tab uses the same node id', async () => {
    const [alice] = uniqueIds('alice');
    const a = member(alice!);
    await a.discovery.start();
    rawChannel().postMessage({ v: 1, t: 'hello', from: alice });
    await eventually(() => a.discovery.ignoredMessages === 1);
    expect(a.logger.warnings.join('\n')).to.contain('uses this node id');
    expect(a.events).to.deep.equal([]);
  });
});
