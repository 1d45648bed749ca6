import type { NodeId } from '../../src/crdt/dot.js';
import { BroadcastChannelTransport } from '../../src/net/broadcast-channel-transport.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { Transport } from '../../src/net/transport.js';
import { WebRtcTransport } from '../../src/net/webrtc-transport.js';
import { recordingLogger, uniqueRoom } from './net-test-helpers.js';
import { runTransportContract, type ContractTransportOptions, type TransportFixture } from './transport-contract.js';

/** Closes every transport a fixture made. */
function tracking(make: (id: NodeId, options: ContractTransportOptions) => Transport, dispose: () => void = () => undefined): TransportFixture {
  const made: Transport[] = [];
  return {
    transport(id, options = {}) {
      const transport = make(id, options);
      made.push(transport);
      return transport;
    },
    dispose() {
      for (const transport of made) transport.close();
      dispose();
    },
  };
}

runTransportContract('MemoryTransport', () => {
  const network = new MemoryNetwork();
  return tracking((id, options) => new MemoryTransport(network, id, { ...options, logger: recordingLogger() }));
});

runTransportContract('BroadcastChannelTransport (two transports of one page)', () => {
  const room = uniqueRoom();
  return tracking((localId, options) => new BroadcastChannelTransport({ localId, room, ...options, logger: recordingLogger() }));
});

runTransportContract('WebRtcTransport (signaling over MemoryDiscovery)', () => {
  const network = new MemoryNetwork({ kind: 'webrtc' });
  const room = uniqueRoom();
  const discoveries: MemoryDiscovery[] = [];
  return tracking(
    (localId, options) => {
      const discovery = new MemoryDiscovery(network, { room, nodeId: localId, logger: recordingLogger() });
      void discovery.start();
      discoveries.push(discovery);
      return new WebRtcTransport({ localId, signaling: discovery, ...options, logger: recordingLogger() });
    },
    () => {
      for (const discovery of discoveries) void discovery.stop();
    },
  );
});
