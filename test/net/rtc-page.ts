// Runs one WebRTC peer inside an iframe (its own JavaScript realm, like a real tab), for the
// two-page tests. The parent page drives it through `window.rtcPage`.
import { asNodeId } from '../../src/crdt/dot.js';
import { startRtcNode } from './rtc-node.js';

/** What the parent page can call on the iframe's window. */
export interface RtcPage {
  readonly nodeId: string;
  /** Peers with an open connection. */
  connectedPeers(): string[];
  received(): string[];
  sendText(peer: string, text: string): Promise<void>;
  /** Sends `bytes` bytes and resolves with their checksum. */
  sendLarge(peer: string, bytes: number): Promise<number>;
  /** Checksums of the large messages received. */
  largeReceived(): number[];
}

/** Sum of the bytes, modulo 2^32: enough to see a cut or reordered message. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.byteLength; i++) sum = (sum * 31 + bytes[i]!) >>> 0;
  return sum;
}

/** Starts the peer `nodeId` of `room` and exposes it as `window.rtcPage`. */
export async function startRtcPage(nodeId: string, url: string, room: string): Promise<void> {
  const node = await startRtcNode(asNodeId(nodeId), url, room);
  const large: number[] = [];
  node.manager.onConnection((connection) =>
    connection.onMessage((message) => {
      if (message.byteLength > 1000) large.push(checksum(message));
    }),
  );
  const page: RtcPage = {
    nodeId,
    connectedPeers: () => node.manager.connections.filter((c) => c.state === 'open').map((c) => c.peerId),
    received: () => [...node.received],
    sendText: (peer, text) => node.sendText(asNodeId(peer), text),
    async sendLarge(peer, bytes) {
      const message = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i++) message[i] = (i * 7 + (i >> 10)) & 0xff;
      await node.connectionTo(asNodeId(peer))!.send(message);
      return checksum(message);
    },
    largeReceived: () => [...large],
  };
  (window as unknown as { rtcPage: RtcPage }).rtcPage = page;
  parent.postMessage({ type: 'rtc-page-ready', nodeId }, '*');
}
