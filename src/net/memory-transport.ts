import type { NodeId } from '../crdt/dot.js';
import { Listeners } from './listeners.js';
import { consoleLogger, type NetLogger } from './logger.js';
import type { MemoryConnection } from './memory-connection.js';
import type { MemoryNetwork } from './memory-network.js';
import type { PeerConnection, Transport } from './transport.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-framer.js';
import { assertNodeId, isNodeId } from './wire-guards.js';

/** Options of `MemoryTransport`. */
export interface MemoryTransportOptions {
  /** Incoming connections beyond this many are refused. Default: no limit. */
  readonly maxConnections?: number;
  /** Larger messages are refused by `send`. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  readonly logger?: NetLogger;
}

/**
 * The in-memory transport: connections to other transports of the same `MemoryNetwork`, with the
 * same guarantees and failure modes as the real ones (asynchronous, ordered, whole messages).
 * Incoming connections are refused while nobody listens with `onConnection`.
 */
export class MemoryTransport implements Transport {
  readonly kind: string;
  readonly maxConnections: number;
  readonly maxMessageBytes: number;
  readonly logger: NetLogger;
  private readonly connectionListeners: Listeners<[PeerConnection]>;
  private readonly connections = new Set<MemoryConnection>();
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly localId: NodeId,
    options: MemoryTransportOptions = {},
  ) {
    assertNodeId(localId, 'MemoryTransport');
    this.kind = network.kind;
    this.maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.logger = options.logger ?? consoleLogger;
    this.connectionListeners = new Listeners(this.logger, 'memory connection');
    network.attachTransport(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Open connections of this transport. */
  get openConnections(): readonly PeerConnection[] {
    return [...this.connections];
  }

  connect(peer: NodeId): Promise<PeerConnection> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    if (!isNodeId(peer)) return Promise.reject(new TypeError(`invalid node id ${JSON.stringify(peer)}`));
    if (peer === this.localId) return Promise.reject(new Error('cannot connect to itself'));
    return this.network.openLink(this, peer);
  }

  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.connections]) connection.close('transport closed');
    this.connectionListeners.clear();
    this.network.detachTransport(this);
  }

  /** @internal Why this transport would refuse a link now, if it would. */
  refusal(waitingLocally: boolean): string | undefined {
    if (this.closed) return `${this.localId} closed its transport`;
    if (!waitingLocally && this.connectionListeners.size === 0) return `${this.localId} is not accepting connections`;
    if (this.connections.size >= this.maxConnections) return `${this.localId} has too many connections`;
    return undefined;
  }

  /** @internal A link end now belongs to this transport; `announce` for ones nobody here asked for. */
  adopt(connection: MemoryConnection, announce: boolean): void {
    this.connections.add(connection);
    if (announce) this.connectionListeners.emit(connection);
  }

  /** @internal */
  forget(connection: MemoryConnection): void {
    this.connections.delete(connection);
  }
}
