import { expect } from 'chai';
import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import { MODEL, ROOM, fastOverlay } from './overlay-room.js';
import { eventually } from '../eventually.js';

// A connection that opens and is then refused during authentication (on WebRTC this happened when
// one end computed its channel binding before the peer's description showed) must count as a
// failed attempt for the overlay. Before, the overlay had been told the connection opened, never
// heard that it closed before being attached, and its JOIN waited the whole neighbor timeout
// (20 s in a real room) before trying again. Here that timeout is ten minutes: only a reported
// failure lets the two devices connect within the test.
describe('A connection refused before the overlay attached it', function () {
  this.timeout(60_000);
  let network: MemoryNetwork;
  let nodes: EDNetP2PNode[];

  beforeEach(() => {
    network = new MemoryNetwork();
    nodes = [];
  });

  afterEach(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    network.close();
  });

  /** A node whose first authentication of each peer fails (the connection is closed), as `authenticateConnection` does. */
  function node(name: string, seed: number, refusals: Map<NodeId, number>): EDNetP2PNode {
    const id = asNodeId(name);
    const overlay = fastOverlay(seed);
    const created = new EDNetP2PNode({
      nodeId: id,
      transports: [new MemoryTransport(network, id)],
      discoveries: [new MemoryDiscovery(network, { room: ROOM, nodeId: id })],
      backoff: { initialMs: 20, maxMs: 200 },
      followBrowserOnline: false,
      overlay: { ...overlay, hyparview: { ...overlay.hyparview, neighborTimeoutMs: 600_000 } },
      relayedTransports: [network.kind],
      authenticate: async (connection: PeerConnection) => {
        await Promise.resolve();
        const seen = refusals.get(connection.peerId) ?? 0;
        refusals.set(connection.peerId, seen + 1);
        if (seen === 0) {
          connection.close('authentication failed: the proof does not verify');
          throw new Error('the proof does not verify');
        }
        return connection;
      },
    });
    created.registerDomainModel(MODEL, new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' }));
    nodes.push(created);
    return created;
  }

  it('is reported as a failed attempt, so the devices connect again without waiting out the neighbor timeout', async () => {
    const refusedByA = new Map<NodeId, number>();
    const refusedByB = new Map<NodeId, number>();
    const a = node('dev-a', 1, refusedByA);
    const b = node('dev-b', 2, refusedByB);
    await a.start();
    await b.start();
    const neighbors = (): boolean => a.overlay!.status.neighbors.includes(b.nodeId) && b.overlay!.status.neighbors.includes(a.nodeId);
    await eventually(neighbors, 'both devices to be neighbors after a refused connection', 30_000);
    // The first connection really was refused: the test exercised the failure it is about.
    expect((refusedByA.get(b.nodeId) ?? 0) + (refusedByB.get(a.nodeId) ?? 0)).to.be.at.least(3);
    expect(a.connections.connections.map((connection) => connection.peerId)).to.deep.equal([b.nodeId]);
  });
});
