// One peer as a node composes the net layer: discovery finds peers, the transport reaches them
// (signaling through the same discovery), the ConnectionManager keeps one connection per peer.
import type { NodeId } from '../../src/crdt/dot.js';
import { ConnectionManager, ServerBasedDiscovery, WebRtcTransport, type PeerConnection } from '../../src/net/index.js';
import { recordingLogger } from './net-test-helpers.js';

/** A started peer: its parts, the messages it received, and how to stop it. */
export interface RtcNode {
  readonly nodeId: NodeId;
  readonly discovery: ServerBasedDiscovery;
  readonly transport: WebRtcTransport;
  readonly manager: ConnectionManager;
  /** Short text messages received, as `from: text`. */
  readonly received: string[];
  connectionTo(peer: NodeId): PeerConnection | undefined;
  sendText(peer: NodeId, text: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a peer of `room` on the signaling server at `url`. */
export async function startRtcNode(nodeId: NodeId, url: string, room: string): Promise<RtcNode> {
  const logger = recordingLogger();
  const discovery = new ServerBasedDiscovery({ url, room, nodeId, logger, reconnectOnOnline: false, backoff: { initialMs: 50, maxMs: 500 } });
  const transport = new WebRtcTransport({ localId: nodeId, signaling: discovery, logger });
  const manager = new ConnectionManager({ localId: nodeId, transports: [transport], logger, backoff: { initialMs: 50, maxMs: 500 } });
  const received: string[] = [];
  manager.onConnection((connection) => {
    connection.onMessage((message) => {
      if (message.byteLength <= 1000) received.push(`${connection.peerId}: ${new TextDecoder().decode(message)}`);
    });
  });
  discovery.onEvent((event) => {
    if (event.type === 'peer-discovered') manager.keepConnected(event.peerAddress);
    else manager.release(event.peerAddress.nodeId, event.peerAddress.via);
  });
  manager.start();
  await discovery.start();
  const connectionTo = (peer: NodeId) => manager.connections.find((connection) => connection.peerId === peer);
  return {
    nodeId,
    discovery,
    transport,
    manager,
    received,
    connectionTo,
    async sendText(peer, text) {
      const connection = connectionTo(peer);
      if (!connection) throw new Error(`${nodeId} has no connection to ${peer}`);
      await connection.send(new TextEncoder().encode(text));
    },
    async stop() {
      await discovery.stop();
      manager.stop();
      transport.close();
    },
  };
}
