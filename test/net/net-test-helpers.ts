import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import type { NetLogger } from '../../src/net/logger.js';
import type { PeerConnection } from '../../src/net/transport.js';
export { eventually } from '../eventually.js';

export const alice: NodeId = asNodeId('alice');
export const bob: NodeId = asNodeId('bob');
export const carol: NodeId = asNodeId('carol');

/** Node ids unique to one test, so tests sharing a BroadcastChannel or a server never meet. */
export function uniqueIds(...names: string[]): NodeId[] {
  const suffix = Math.random().toString(36).slice(2, 10);
  return names.map((name) => asNodeId(`${name}-${suffix}`));
}

/** A room name unique to one test. */
export const uniqueRoom = (): string => `room-${Math.random().toString(36).slice(2, 12)}`;

/** A logger that keeps what it is told, for tests that check refusals are reported. */
export function recordingLogger(): NetLogger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => void warnings.push(message), debug: () => undefined };
}

/** Collects every message a connection delivers. */
export function inbox(connection: PeerConnection): Uint8Array[] {
  const messages: Uint8Array[] = [];
  connection.onMessage((message) => messages.push(message));
  return messages;
}

/** Resolves with the close reason of `connection`. */
export function closed(connection: PeerConnection): Promise<string> {
  return new Promise((resolve) => connection.onClose(resolve));
}

/** Resolves with the next connection a transport-like source announces. */
export function nextConnection(source: { onConnection(listener: (c: PeerConnection) => void): () => void }): Promise<PeerConnection> {
  return new Promise((resolve) => {
    const unsubscribe = source.onConnection((connection) => {
      unsubscribe();
      resolve(connection);
    });
  });
}

/** `length` bytes of a pattern that shows where a message was cut or reordered. */
export function patterned(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 13)) & 0xff;
  return bytes;
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
