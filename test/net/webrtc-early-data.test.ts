import { expect } from 'chai';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { WebRtcTransport } from '../../src/net/webrtc-transport.js';
import { alice, bob, eventually, inbox, nextConnection, recordingLogger, uniqueRoom } from './net-test-helpers.js';

/**
 * simple-peer reports `connect` only once `getStats` shows a selected candidate pair. Holding back
 * the `getStats` of the first peer connection made (alice's: the lower id offers) makes bob's side
 * open first, and bob sends while alice's side is still waiting for `connect`.
 */
function slowStatsForFirstPeerConnection(delayMs: number): () => void {
  const Original = globalThis.RTCPeerConnection;
  let made = 0;
  class SlowFirst extends Original {
    private readonly slow = made++ === 0;
    override getStats(): Promise<RTCStatsReport> {
      const stats = () => super.getStats();
      return this.slow ? new Promise((resolve) => setTimeout(resolve, delayMs)).then(stats) : stats();
    }
  }
  globalThis.RTCPeerConnection = SlowFirst as typeof RTCPeerConnection;
  return () => void (globalThis.RTCPeerConnection = Original);
}

describe('WebRtcTransport, data before connect', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('keeps what the peer sent before our side reported connect, in order', async () => {
    cleanups.push(slowStatsForFirstPeerConnection(1000));
    const network = new MemoryNetwork({ kind: 'webrtc' });
    const room = uniqueRoom();
    cleanups.push(() => network.close());
    const [a, b] = [alice, bob].map((nodeId) => {
      const discovery = new MemoryDiscovery(network, { room, nodeId, logger: recordingLogger() });
      void discovery.start();
      const transport = new WebRtcTransport({ localId: nodeId, signaling: discovery, logger: recordingLogger() });
      cleanups.push(() => {
        transport.close();
        void discovery.stop();
      });
      return transport;
    }) as [WebRtcTransport, WebRtcTransport];
    // Bob speaks first, the moment his side is open (as the sync engine's hello does).
    void nextConnection(b).then(async (connection) => {
      for (const text of ['hello', 'second']) await connection.send(new TextEncoder().encode(text));
    });
    const atAlice = await a.connect(bob);
    const received = inbox(atAlice);
    await eventually(() => received.length === 2);
    expect(received.map((message) => new TextDecoder().decode(message))).to.deep.equal(['hello', 'second']);
  });
});
