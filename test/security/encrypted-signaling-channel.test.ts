import { expect } from 'chai';
import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { SignalingChannel } from '../../src/net/peer-discovery.js';
import { EncryptedSignalingChannel, type SignalRejection } from '../../src/security/encrypted-signaling-channel.js';
import { deriveRoomKeys, generateRoomSecret, type RoomKeys } from '../../src/security/room-keys.js';
import { fromBase64Url, toBase64Url } from '../../src/util/base64url.js';

const alice = asNodeId('alice');
const bob = asNodeId('bob');
const carol = asNodeId('carol');
const quiet = { warn: () => undefined };
const offer = { kind: 'signal', session: 's1', data: { type: 'offer', sdp: 'v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\n' } };

/**
 * A relay that is not to be trusted: it sees every signal arriving at one node and decides what
 * that node gets instead (`tamper`), like a malicious signaling server.
 */
class MaliciousRelay implements SignalingChannel {
  readonly seen: Array<[NodeId, unknown]> = [];
  tamper: (from: NodeId, data: unknown) => Array<[NodeId, unknown]> = (from, data) => [[from, data]];
  private readonly listeners = new Set<(from: NodeId, data: unknown) => void>();

  constructor(private readonly inner: SignalingChannel) {
    inner.onSignal((from, data) => {
      this.seen.push([from, data]);
      for (const [claimed, forged] of this.tamper(from, data)) for (const listener of this.listeners) listener(claimed, forged);
    });
  }

  sendSignal(to: NodeId, data: unknown): void {
    this.inner.sendSignal(to, data);
  }

  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

interface Peer {
  readonly id: NodeId;
  readonly discovery: MemoryDiscovery;
  readonly relay: MaliciousRelay;
  readonly channel: EncryptedSignalingChannel;
  readonly received: Array<[NodeId, unknown]>;
  readonly rejected: SignalRejection[];
  readonly mismatches: SignalRejection[];
}

async function peer(network: MemoryNetwork, id: NodeId, keys: RoomKeys, topic = keys.topic): Promise<Peer> {
  const discovery = new MemoryDiscovery(network, { room: topic, nodeId: id, logger: quiet });
  await discovery.start();
  const relay = new MaliciousRelay(discovery);
  const channel = new EncryptedSignalingChannel(relay, id, keys, { logger: quiet });
  const result: Peer = { id, discovery, relay, channel, received: [], rejected: [], mismatches: [] };
  channel.onSignal((from, data) => result.received.push([from, data]));
  channel.onRejected((rejection) => result.rejected.push(rejection));
  channel.onKeyMismatch((rejection) => result.mismatches.push(rejection));
  return result;
}

/** Lets every queued seal, relay hop and open finish. */
async function settle(...peers: Peer[]): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await Promise.all(peers.map((p) => p.channel.flushed()));
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

describe('EncryptedSignalingChannel', () => {
  let network: MemoryNetwork;
  let keys: RoomKeys;

  beforeEach(async () => {
    network = new MemoryNetwork();
    keys = await deriveRoomKeys('board-2024', generateRoomSecret());
  });

  afterEach(() => network.close());

  it('delivers signals between peers holding the room key, in order, unreadable to the relay', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    const sent = Array.from({ length: 30 }, (_, i) => ({ ...offer, n: i }));
    for (const signal of sent) a.channel.sendSignal(bob, signal);
    b.channel.sendSignal(alice, { kind: 'request' });
    await settle(a, b);
    expect(b.received).to.deep.equal(sent.map((signal) => [alice, signal]));
    expect(a.received).to.deep.equal([[bob, { kind: 'request' }]]);
    expect(b.rejected).to.deep.equal([]);
    expect(JSON.stringify(b.relay.seen)).not.to.contain('v=0');
    expect(JSON.stringify(b.relay.seen)).not.to.contain('offer');
  });

  it('refuses a peer with the wrong room key and reports a key mismatch on both sides', async () => {
    const a = await peer(network, alice, keys);
    // Another key names another topic; here a server puts the stranger on the room's topic anyway.
    const stranger = await peer(network, bob, await deriveRoomKeys('board-2024', generateRoomSecret()), keys.topic);
    a.channel.sendSignal(bob, offer);
    stranger.channel.sendSignal(alice, offer);
    await settle(a, stranger);
    expect(a.received).to.deep.equal([]);
    expect(stranger.received).to.deep.equal([]);
    expect(a.mismatches).to.deep.equal([{ from: bob, kind: 'wrong-key', reason: 'sealed with another room key' }]);
    expect(stranger.mismatches.map((m) => [m.from, m.kind])).to.deep.equal([[alice, 'wrong-key']]);
    expect(a.channel.rejectedSignals).to.equal(1);
  });

  it('reports a peer sending unsealed signals (no room key) as a key mismatch', async () => {
    const a = await peer(network, alice, keys);
    const plain = new MemoryDiscovery(network, { room: keys.topic, nodeId: bob, logger: quiet });
    await plain.start();
    plain.sendSignal(alice, offer);
    await settle(a);
    expect(a.received).to.deep.equal([]);
    expect(a.mismatches.map((m) => [m.from, m.kind])).to.deep.equal([[bob, 'not-sealed']]);
  });

  it('refuses a signal whose SDP a malicious server replaced', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    // The server cannot see the SDP, so it substitutes its own offer: plain, or in a sealed box
    // with the room's key id but its own ciphertext.
    const forged = { ...offer, data: { type: 'offer', sdp: 'v=0\r\no=mallory 6 6 IN IP4 10.6.6.6\r\n' } };
    b.relay.tamper = (from, data) => [
      [from, forged],
      [from, { ...(data as object), ct: toBase64Url(new TextEncoder().encode(JSON.stringify(forged))) }],
    ];
    a.channel.sendSignal(bob, offer);
    await settle(a, b);
    expect(b.received).to.deep.equal([]);
    expect(b.rejected.map((r) => r.kind)).to.deep.equal(['not-sealed', 'tampered']);
    // The forged plain offer counts as a key mismatch; the forged ciphertext as tampering.
    expect(b.mismatches.map((r) => r.kind)).to.deep.equal(['not-sealed']);
  });

  it('refuses a signal altered in transit', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    b.relay.tamper = (from, data) => {
      const box = data as { ct: string; iv: string };
      const flipped = (text: string, at: number) => {
        const bytes = fromBase64Url(text)!;
        bytes[at]! ^= 0x04;
        return toBase64Url(bytes);
      };
      return [
        [from, { ...box, ct: flipped(box.ct, 20) }],
        [from, { ...box, iv: flipped(box.iv, 0) }],
        [from, { ...box, ct: box.ct.slice(0, -4) }],
      ];
    };
    a.channel.sendSignal(bob, offer);
    await settle(a, b);
    expect(b.received).to.deep.equal([]);
    expect(b.rejected.map((r) => r.kind)).to.deep.equal(['tampered', 'tampered', 'tampered']);
  });

  it('refuses a signal redirected to another peer or attributed to another sender', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    const c = await peer(network, carol, keys);
    // The server hands carol what alice sent bob, and tells bob it came from carol.
    b.relay.tamper = (from, data) => {
      c.relay.tamper = () => [];
      queueMicrotask(() => c.relay['listeners'].forEach((listener) => listener(from, data)));
      return [[carol, data]];
    };
    a.channel.sendSignal(bob, offer);
    await settle(a, b, c);
    await settle(a, b, c);
    expect(b.received).to.deep.equal([]);
    expect(c.received).to.deep.equal([]);
    expect(b.rejected.map((r) => [r.from, r.kind])).to.deep.equal([[carol, 'tampered']]);
    expect(c.rejected.map((r) => [r.from, r.kind])).to.deep.equal([[alice, 'tampered']]);
  });

  it('refuses a replayed signal', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    const captured: unknown[] = [];
    b.relay.tamper = (from, data) => {
      captured.push(data);
      return [[from, data], [from, data]];
    };
    a.channel.sendSignal(bob, offer);
    a.channel.sendSignal(bob, { kind: 'request' });
    await settle(a, b);
    b.relay.tamper = (from) => [[from, captured[0]]];
    a.channel.sendSignal(bob, { kind: 'close', session: 's1', reason: 'done' });
    await settle(a, b);
    expect(b.received.map(([, data]) => (data as { kind: string }).kind)).to.deep.equal(['signal', 'request']);
    expect(b.rejected.map((r) => r.kind)).to.deep.equal(['replayed', 'replayed', 'replayed']);
  });

  it('accepts a new session of the same peer (a reloaded tab)', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    a.channel.sendSignal(bob, { kind: 'request' });
    await settle(a, b);
    a.channel.close();
    const reloaded = new EncryptedSignalingChannel(a.relay, alice, keys, { logger: quiet });
    reloaded.sendSignal(bob, { kind: 'request' });
    await reloaded.flushed();
    await settle(b);
    expect(b.received).to.have.length(2);
    expect(b.rejected).to.deep.equal([]);
  });

  it('drops signals after close and stops listening to the inner channel', async () => {
    const a = await peer(network, alice, keys);
    const b = await peer(network, bob, keys);
    b.channel.close();
    a.channel.sendSignal(bob, offer);
    await settle(a, b);
    expect(b.received).to.deep.equal([]);
    expect(b.channel.rejectedSignals).to.equal(0);
  });

  it('refuses an invalid local id (a programmer error)', () => {
    const discovery = new MemoryDiscovery(network, { room: keys.topic, nodeId: alice, logger: quiet });
    expect(() => new EncryptedSignalingChannel(discovery, asNodeId('not valid!'), keys)).to.throw(TypeError);
  });
});
