import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { type SyncEngineEvent, SynchronizationEngine, type SynchronizationEngineOptions } from '../../src/sync/index.js';
export { eventually as until } from '../eventually.js';

/** The model every test peer holds. */
export const MODEL = 'election';

/** One node of a test: an electoral model, its sync engine, a memory transport, what it reported. */
export interface SyncPeer {
  readonly id: NodeId;
  readonly model: ElectoralSystemModel;
  readonly engine: SynchronizationEngine;
  readonly transport: MemoryTransport;
  readonly events: SyncEngineEvent[];
  readonly warnings: string[];
}

const quiet = { warn: () => {} };

/** A node named `name` on `network`, accepting connections. Anti-entropy is off unless asked for; `getNow` is the model's wall clock. */
export function syncPeer(
  network: MemoryNetwork,
  name: string,
  options: Partial<SynchronizationEngineOptions> = {},
  getNow?: () => number,
): SyncPeer {
  const id = asNodeId(name);
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, getNow, roles: 'open' });
  const warnings: string[] = [];
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 0, logger: { warn: (message) => warnings.push(message) }, ...options });
  engine.registerModel(MODEL, model);
  const transport = new MemoryTransport(network, id, { logger: quiet });
  transport.onConnection((connection) => engine.addConnection(connection));
  const events: SyncEngineEvent[] = [];
  engine.onEvent((event) => events.push(event));
  return { id, model, engine, transport, events, warnings };
}

/** Connects `a` to `b`; `wrap` may stand between `a`'s engine and its end of the link. */
export async function link(a: SyncPeer, b: SyncPeer, wrap?: (connection: PeerConnection) => PeerConnection): Promise<void> {
  const connection = await a.transport.connect(b.id);
  a.engine.addConnection(wrap ? wrap(connection) : connection);
}

/**
 * Lets everything in flight arrive. The memory network and the engine only use microtasks, and
 * the microtask queue drains before the next task runs, so after this the system is quiet.
 */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** The model's whole state, canonical: equal strings mean equal replicas. */
export const canonical = (peer: SyncPeer): string => JSON.stringify(peer.model.getSnapshot());

/** Registers `count` voters in one go. */
export function registerVoters(peer: SyncPeer, count: number, prefix = 'V'): void {
  for (let i = 0; i < count; i++) peer.model.registerVoter({ name: `Voter ${i}`, voterNumber: `${prefix}${String(i).padStart(5, '0')}` });
}

/** What `peer` knows about its connection to `other`. */
export function statusOf(peer: SyncPeer, other: { readonly id: NodeId }) {
  const status = peer.engine.peerStatus().find((p) => p.peerId === other.id);
  if (!status) throw new Error(`${peer.id} has no connection to ${other.id}`);
  return status;
}

/** True if `peer` reports being in sync with `other` on the test model. */
export const inSyncWith = (peer: SyncPeer, other: { readonly id: NodeId }): boolean =>
  statusOf(peer, other).models.find((m) => m.modelId === MODEL)?.inSync ?? false;

/** Events of one type. */
export function eventsOf<T extends SyncEngineEvent['type']>(peer: SyncPeer, type: T): Extract<SyncEngineEvent, { type: T }>[] {
  return peer.events.filter((event): event is Extract<SyncEngineEvent, { type: T }> => event.type === type);
}

/**
 * `connection` as its engine sees it through two hooks: `sent` gets (and may rewrite) every frame
 * the engine sends, `received` every frame before the engine gets it; a hook that returns
 * `undefined` loses the frame.
 */
export function throughHooks(
  connection: PeerConnection,
  sent: (bytes: Uint8Array) => Uint8Array | undefined,
  received: (bytes: Uint8Array) => Uint8Array | undefined,
): PeerConnection {
  return relayed(connection, sent, (bytes, deliver) => {
    const delivered = received(bytes);
    if (delivered) deliver(delivered);
  });
}

/**
 * `connection` with every frame it sends passed through `sent` (`undefined` loses it), and every
 * frame it receives handed to `receive`, which delivers it to the engine when and if it will.
 */
export function relayed(
  connection: PeerConnection,
  sent: (bytes: Uint8Array) => Uint8Array | undefined,
  receive: (bytes: Uint8Array, deliver: (bytes: Uint8Array) => void) => void,
): PeerConnection {
  return {
    peerId: connection.peerId,
    get via() {
      return connection.via;
    },
    get state() {
      return connection.state;
    },
    send: (bytes) => {
      const out = sent(bytes);
      return out ? connection.send(out) : Promise.resolve();
    },
    onMessage: (listener) => connection.onMessage((bytes) => receive(bytes, listener)),
    onClose: (listener) => connection.onClose(listener),
    close: (reason) => connection.close(reason),
  };
}

/** The type (`t`) of a sync message as the memory network carries it (JSON). */
export const messageType = (bytes: Uint8Array): string => (JSON.parse(new TextDecoder().decode(bytes)) as { t: string }).t;
