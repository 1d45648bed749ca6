import { expect } from 'chai';
import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { SignalingChannel } from '../../src/net/peer-discovery.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { encodeRtcEnvelope } from '../../src/net/webrtc-signal.js';
import { WebRtcTransport } from '../../src/net/webrtc-transport.js';
import { EncryptedSignalingChannel, type SignalRejection } from '../../src/security/encrypted-signaling-channel.js';
import { deriveRoomKeys, generateRoomSecret, type RoomKeys } from '../../src/security/room-keys.js';
import { seal } from '../../src/security/sealed-box.js';

const alice = asNodeId('alice');
const bob = asNodeId('bob');
const quiet = { warn: () => undefined };

/** Stands in for the signaling server on the way to one node: sees every signal, may replace it. */
class Relay implements SignalingChannel {
  replace: ((from: NodeId, data: unknown) => Promise<unknown>) | undefined;
  private readonly listeners = new Set<(from: NodeId, data: unknown) => void>();

  constructor(private readonly inner: SignalingChannel) {
    inner.onSignal((from, data) => {
      void (this.replace ? this.replace(from, data) : Promise.resolve(data)).then((forged) => {
        for (const listener of this.listeners) listener(from, forged);
      });
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

/** A real offer from an RTCPeerConnection the attacker controls. */
async function attackerOffer(cleanups: Array<() => void>): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  cleanups.push(() => pc.close());
  pc.createDataChannel('mitm');
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  return offer.sdp!;
}

describe('WebRTC over encrypted signaling', () => {
  let network: MemoryNetwork;
  let keys: RoomKeys;
  let roomId: string;
  const cleanups: Array<() => void> = [];

  beforeEach(async () => {
    network = new MemoryNetwork({ kind: 'webrtc' });
    roomId = `rtc-${Math.random().toString(36).slice(2, 10)}`;
    keys = await deriveRoomKeys(roomId, generateRoomSecret());
  });

  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    network.close();
  });

  async function node(id: NodeId, roomKeys: RoomKeys = keys, topic = roomKeys.topic) {
    const discovery = new MemoryDiscovery(network, { room: topic, nodeId: id, logger: quiet });
    await discovery.start();
    const relay = new Relay(discovery);
    const signaling = new EncryptedSignalingChannel(relay, id, roomKeys, { logger: quiet });
    const rejected: SignalRejection[] = [];
    signaling.onRejected((rejection) => rejected.push(rejection));
    const transport = new WebRtcTransport({ localId: id, signaling, iceServers: [], connectTimeoutMs: 4000, logger: quiet });
    const incoming: PeerConnection[] = [];
    transport.onConnection((connection) => incoming.push(connection));
    cleanups.push(() => transport.close(), () => signaling.close(), () => void discovery.stop());
    return { transport, relay, rejected, incoming };
  }

  async function failure(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the connection to fail');
  }

  it('connects peers holding the room key and carries data', async () => {
    const a = await node(alice);
    const b = await node(bob);
    const connection = await a.transport.connect(bob);
    while (b.incoming.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const received: Uint8Array[] = [];
    b.incoming[0]!.onMessage((message) => received.push(message));
    await connection.send(new Uint8Array([1, 2, 3]));
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).to.deep.equal([new Uint8Array([1, 2, 3])]);
    expect(a.rejected).to.deep.equal([]);
    expect(b.rejected).to.deep.equal([]);
  });

  it('never connects a peer holding another room key, and that peer learns why', async () => {
    const a = await node(alice);
    // Same room, outdated key: an old link after the room was rotated. Its topic differs too; here
    // a server puts it on the room's topic anyway.
    const b = await node(bob, await deriveRoomKeys(roomId, generateRoomSecret()), keys.topic);
    await failure(a.transport.connect(bob));
    expect(b.incoming).to.deep.equal([]);
    expect(b.rejected.map((r) => r.kind)).to.include('wrong-key');
  });

  it('refuses the offer of a signaling server that substitutes its own SDP', async () => {
    const a = await node(alice);
    const b = await node(bob);
    const sdp = await attackerOffer(cleanups);
    const otherKeys = await deriveRoomKeys('attacker', generateRoomSecret());
    let forged = 0;
    b.relay.replace = async (_from, data) => {
      forged++;
      const offer = encodeRtcEnvelope({ kind: 'signal', session: 'mitm1', data: { type: 'offer', sdp } });
      // Alternate: the bare offer, and the offer sealed under a key of the attacker's.
      return forged % 2 === 1 ? offer : seal({ ...otherKeys, keyId: (data as { kid: string }).kid }, { s: 'mitm', n: forged, d: offer }, `x`);
    };
    await failure(a.transport.connect(bob));
    expect(forged).to.be.greaterThan(0);
    expect(b.incoming).to.deep.equal([]);
    expect(new Set(b.rejected.map((r) => r.kind))).to.satisfy((kinds: Set<string>) =>
      [...kinds].every((kind) => kind === 'not-sealed' || kind === 'tampered'),
    );
    expect(b.rejected.length).to.equal(forged);
  });
});
