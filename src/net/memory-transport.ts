import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from './logger.js';
import type { MemoryConnection } from './memory-connection.js';
import type { MemoryNetwork } from './memory-network.js';
import type { SignalingChannel } from './peer-discovery.js';
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
  /**
   * Connection setup goes through this channel first, as WebRTC's offers and answers do: a link
   * opens only after the peer's transport answered our offer over it. Without it links open
   * directly. Lets tests cut signaling (a stopped server) separately from links.
   */
  readonly signaling?: SignalingChannel;
  /** How long an offer over `signaling` waits for its answer. Default 10 s. */
  readonly signalTimeoutMs?: number;
}

interface MemorySignal {
  readonly t: 'memory-link';
  readonly kind: 'offer' | 'answer';
  readonly id: string;
}

const isMemorySignal = (data: unknown): data is MemorySignal =>
  typeof data === 'object' &&
  data !== null &&
  (data as MemorySignal).t === 'memory-link' &&
  ((data as MemorySignal).kind === 'offer' || (data as MemorySignal).kind === 'answer') &&
  typeof (data as MemorySignal).id === 'string';

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
  private readonly signaling: SignalingChannel | undefined;
  private readonly signalTimeoutMs: number;
  private readonly unsubscribeSignals: () => void;
  /** Offers sent and waiting for their answer, by offer id. */
  private readonly offers = new Map<string, () => void>();
  /** Peers whose offer we answered: their link may open. */
  private readonly answered = new Set<NodeId>();
  private nextOffer = 0;

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
    this.signaling = options.signaling;
    this.signalTimeoutMs = options.signalTimeoutMs ?? 10_000;
    this.unsubscribeSignals = this.signaling?.onSignal((from, data) => this.handleSignal(from, data)) ?? (() => undefined);
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
    if (!this.signaling) return this.network.openLink(this, peer);
    const signaling = this.signaling;
    const id = `${this.localId}.${++this.nextOffer}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.offers.delete(id);
        reject(new Error(`no answer from ${peer} over signaling`));
      }, this.signalTimeoutMs);
      this.offers.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      signaling.sendSignal(peer, { t: 'memory-link', kind: 'offer', id } satisfies MemorySignal);
    }).then(() => this.network.openLink(this, peer));
  }

  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.connections]) connection.close('transport closed');
    this.connectionListeners.clear();
    this.unsubscribeSignals();
    this.network.detachTransport(this);
  }

  /** @internal Why this transport would refuse a link now, if it would. */
  refusal(waitingLocally: boolean, from?: NodeId): string | undefined {
    if (this.closed) return `${this.localId} closed its transport`;
    if (this.signaling && !waitingLocally && (from === undefined || !this.answered.delete(from))) {
      return `${this.localId} answered no offer of ${from ?? 'the peer'}`;
    }
    if (!waitingLocally && this.connectionListeners.size === 0) return `${this.localId} is not accepting connections`;
    if (this.connections.size >= this.maxConnections) return `${this.localId} has too many connections`;
    return undefined;
  }

  /** @internal A link end now belongs to this transport; `announce` for ones nobody here asked for. */
  adopt(connection: MemoryConnection, announce: boolean): void {
    this.connections.add(connection);
    if (announce) this.connectionListeners.emit(connection);
  }

  private handleSignal(from: NodeId, data: unknown): void {
    if (this.closed || !isMemorySignal(data)) return;
    if (data.kind === 'answer') {
      this.offers.get(data.id)?.();
      this.offers.delete(data.id);
    } else if (this.connectionListeners.size > 0) {
      this.answered.add(from);
      this.signaling?.sendSignal(from, { t: 'memory-link', kind: 'answer', id: data.id } satisfies MemorySignal);
    }
  }

  /** @internal */
  forget(connection: MemoryConnection): void {
    this.connections.delete(connection);
  }
}
