import type { NodeId } from '../../src/crdt/dot.js';
import { LocalNetworkDiscovery } from '../../src/net/local-network-discovery.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { ServerBasedDiscovery } from '../../src/net/server-based-discovery.js';
import { runDiscoveryContract, type SignalingDiscovery } from './discovery-contract.js';
import { recordingLogger } from './net-test-helpers.js';
import { signalingServerUrl } from './signaling-server-url.js';

/** Builds members and stops every one at the end. */
function fixture(via: string, make: (room: string, nodeId: NodeId) => SignalingDiscovery, dispose: () => void = () => undefined) {
  const made: SignalingDiscovery[] = [];
  return {
    via,
    member(room: string, nodeId: NodeId) {
      const discovery = make(room, nodeId);
      made.push(discovery);
      return discovery;
    },
    async dispose() {
      for (const discovery of made.splice(0)) await discovery.stop();
      dispose();
    },
  };
}

runDiscoveryContract('MemoryDiscovery', () => {
  const network = new MemoryNetwork();
  return fixture('memory', (room, nodeId) => new MemoryDiscovery(network, { room, nodeId, logger: recordingLogger() }), () => network.close());
});

runDiscoveryContract('LocalNetworkDiscovery (BroadcastChannel)', () =>
  fixture('broadcast', (room, nodeId) => new LocalNetworkDiscovery({ room, nodeId, logger: recordingLogger(), watchPage: false })),
);

runDiscoveryContract('ServerBasedDiscovery (the real signaling server)', async () => {
  const url = await signalingServerUrl();
  return fixture(
    'webrtc',
    (room, nodeId) =>
      new ServerBasedDiscovery({ url, room, nodeId, logger: recordingLogger(), backoff: { initialMs: 20, maxMs: 200 }, reconnectOnOnline: false }),
  );
});
