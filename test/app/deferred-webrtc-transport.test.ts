import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { DeferredWebRtcTransport } from '../../src/app/deferred-webrtc-transport.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { SignalingChannel } from '../../src/net/peer-discovery.js';
import type { Transport } from '../../src/net/transport.js';
import { WebRtcTransport } from '../../src/net/webrtc-transport.js';
import { alice, bob, inbox, nextConnection, recordingLogger, uniqueRoom } from '../net/net-test-helpers.js';
import { runTransportContract, type ContractTransportOptions } from '../net/transport-contract.js';
import { eventually } from '../eventually.js';

// The room's WebRTC transport loads its code on first use; the same contract decides, on both
// ends deferred (each loads on its first connect or on the first signal it hears).
runTransportContract('DeferredWebRtcTransport (signaling over MemoryDiscovery)', () => {
  const network = new MemoryNetwork({ kind: 'webrtc' });
  const room = uniqueRoom();
  const made: Array<{ transport: Transport; discovery: MemoryDiscovery }> = [];
  return {
    transport(localId: NodeId, options: ContractTransportOptions = {}) {
      const discovery = new MemoryDiscovery(network, { room, nodeId: localId, logger: recordingLogger() });
      void discovery.start();
      const transport = new DeferredWebRtcTransport({ localId, signaling: discovery, ...options, logger: recordingLogger() });
      made.push({ transport, discovery });
      return transport;
    },
    dispose() {
      for (const { transport, discovery } of made) {
        transport.close();
        void discovery.stop();
      }
    },
  };
});

describe('DeferredWebRtcTransport', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  /** A discovery whose signals to its node are delivered only when `release` is called, all in one task. */
  function heldSignaling(inner: SignalingChannel): SignalingChannel & { release(): void; readonly held: number } {
    const listeners = new Set<(from: NodeId, data: unknown) => void>();
    const held: Array<[NodeId, unknown]> = [];
    let released = false;
    inner.onSignal((from, data) => {
      if (released) for (const listener of listeners) listener(from, data);
      else held.push([from, data]);
    });
    return {
      sendSignal: (to, data) => inner.sendSignal(to, data),
      onSignal(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      release() {
        released = true;
        for (const [from, data] of held.splice(0)) for (const listener of listeners) listener(from, data);
      },
      get held() {
        return held.length;
      },
    };
  }

  it('hands the signals heard while its code loads to the transport, in order: a peer connecting first is accepted', async () => {
    const network = new MemoryNetwork({ kind: 'webrtc' });
    const room = uniqueRoom();
    const discoveries = [alice, bob].map((nodeId) => new MemoryDiscovery(network, { room, nodeId, logger: recordingLogger() }));
    for (const discovery of discoveries) await discovery.start();
    cleanups.push(() => {
      for (const discovery of discoveries) void discovery.stop();
      network.close();
    });
    // Bob's transport hears nothing until several of alice's signals (offer, candidates) wait at once.
    const signaling = heldSignaling(discoveries[1]!);
    const deferred = new DeferredWebRtcTransport({ localId: bob, signaling, logger: recordingLogger() });
    const eager = new WebRtcTransport({ localId: alice, signaling: discoveries[0]!, logger: recordingLogger() });
    cleanups.push(() => deferred.close(), () => eager.close());
    const incoming = nextConnection(deferred);
    const outgoing = eager.connect(bob);
    await eventually(() => signaling.held >= 2, 'alice sends her offer and candidates');
    signaling.release();
    const [atAlice, atBob] = await Promise.all([outgoing, incoming]);
    expect(atBob.peerId).to.equal(alice);
    const received = inbox(atBob);
    await atAlice.send(new Uint8Array([1, 2, 3]));
    await eventually(() => received.length === 1, 'the message arrives');
    expect([...received[0]!]).to.deep.equal([1, 2, 3]);
  });

  it('closed before its code loaded, it loads nothing and refuses to connect', async () => {
    const network = new MemoryNetwork({ kind: 'webrtc' });
    const discovery = new MemoryDiscovery(network, { room: uniqueRoom(), nodeId: alice, logger: recordingLogger() });
    cleanups.push(() => network.close());
    const deferred = new DeferredWebRtcTransport({ localId: alice, signaling: discovery, logger: recordingLogger() });
    deferred.close();
    let error: unknown;
    await deferred.connect(bob).catch((caught: unknown) => (error = caught));
    expect(error).to.be.instanceOf(Error);
  });
});
