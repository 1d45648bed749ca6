import { expect } from 'chai';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { WebRtcTransport } from '../../src/net/webrtc-transport.js';
import { alice, bob, eventually, inbox, nextConnection, recordingLogger, uniqueRoom } from './net-test-helpers.js';

/**
 * Holds back the `open` event of the first data channel made (alice's: the lower id offers), so
 * bob's side opens first and bob sends while alice's side has not reported `connect` yet. (The
 * answering side can see its channel open before the offering side does in any case; simple-peer
 * even reported `connect` only after polling for a selected candidate pair.)
 */
function slowOpenForFirstDataChannel(delayMs: number): () => void {
  const Original = globalThis.RTCPeerConnection;
  let made = 0;
  class SlowFirst extends Original {
    override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
      const channel = super.createDataChannel(label, init);
      if (made++ > 0) return channel;
      const add = channel.addEventListener.bind(channel) as (type: string, listener: EventListenerOrEventListenerObject) => void;
      channel.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
        if (type !== 'open') return add(type, listener);
        add(type, (event: Event) => setTimeout(() => (typeof listener === 'function' ? listener(event) : listener.handleEvent(event)), delayMs));
      }) as typeof channel.addEventListener;
      return channel;
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
    cleanups.push(slowOpenForFirstDataChannel(1000));
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
