import type { NodeId } from '../crdt/dot.js';
import { backoffDelay, checkBackoff, type BackoffOptions } from './backoff.js';
import { Listeners } from '../util/listeners.js';
import { type Timers, globalTimers } from '../util/timers.js';
import { consoleLogger, type NetLogger } from './logger.js';
import type { PeerAddress, PeerConnection, Transport } from './transport.js';

/** Options of `ConnectionManager`. */
export interface ConnectionManagerOptions {
  readonly localId: NodeId;
  /**
   * The transports, most preferred first. A peer reachable several ways is connected over the
   * first that works; every node of a deployment must list them in the same order, so both ends
   * of a duplicate pair keep the same connection.
   */
  readonly transports: readonly Transport[];
  /** Open connections at most; further incoming ones are refused. Default 32. */
  readonly maxConnections?: number;
  /** Delays between attempts to reach a wanted peer. Default 500 ms doubling up to 30 s. */
  readonly backoff?: BackoffOptions;
  readonly logger?: NetLogger;
  /** Source of backoff jitter, for tests. */
  readonly random?: () => number;
  /** Where retries wait; default the global timers (tests run them by hand). */
  readonly timers?: Timers;
}

/** What happened to one peer's connection. */
export interface ConnectionStateEvent {
  readonly peerId: NodeId;
  readonly via: string;
  readonly state: 'connecting' | 'open' | 'closed' | 'failed';
  /** Why it closed or failed. */
  readonly reason?: string;
}

interface WantedPeer {
  /** Transport kinds the peer was discovered on. */
  readonly routes: Set<string>;
  attempt: number;
  timer: unknown;
}

/**
 * The seed's `ConnectionManager`: keeps at most one connection per peer, over the most preferred
 * transport that reaches it. Peers that discovery reports are *wanted*: they are connected at once
 * and reconnected with capped, jittered backoff after a failure or a drop, until discovery says
 * they left. A route found later that is preferred to the open connection is tried too, and the
 * connection it opens replaces the old one. `pause()` (working offline) closes everything and stops
 * trying until `resume()`. Incoming connections beyond `maxConnections` are refused.
 */
export class ConnectionManager {
  readonly localId: NodeId;
  readonly maxConnections: number;
  private readonly transports: readonly Transport[];
  private readonly backoff: BackoffOptions;
  private readonly logger: NetLogger;
  private readonly random: () => number;
  private readonly timers: Timers;
  private readonly open = new Map<NodeId, PeerConnection>();
  private readonly attempts = new Map<NodeId, Promise<boolean>>();
  private readonly wanted = new Map<NodeId, WantedPeer>();
  private readonly connectionListeners: Listeners<[PeerConnection]>;
  private readonly stateListeners: Listeners<[ConnectionStateEvent]>;
  private unsubscribe: Array<() => void> = [];
  private running = false;
  private paused = false;

  constructor(options: ConnectionManagerOptions) {
    if (options.transports.length === 0) throw new Error('ConnectionManager needs at least one transport');
    const kinds = new Set(options.transports.map((transport) => transport.kind));
    if (kinds.size !== options.transports.length) throw new Error('ConnectionManager: two transports of the same kind');
    this.localId = options.localId;
    this.transports = options.transports;
    this.maxConnections = options.maxConnections ?? 32;
    if (!(this.maxConnections >= 1)) throw new RangeError('ConnectionManager maxConnections must be at least 1');
    this.backoff = checkBackoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }, 'ConnectionManager backoff');
    this.logger = options.logger ?? consoleLogger;
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? globalTimers;
    this.connectionListeners = new Listeners(this.logger, 'connection');
    this.stateListeners = new Listeners(this.logger, 'connection state');
  }

  /** Open connections, one per peer. */
  get connections(): readonly PeerConnection[] {
    return [...this.open.values()];
  }

  /** True while offline on purpose (`pause`). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Accepts incoming connections from every transport, and reaches the peers already wanted. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.transports.map((transport) => transport.onConnection((connection) => this.adopt(connection)));
    if (!this.paused) for (const peerId of this.wanted.keys()) void this.reach(peerId);
  }

  /** Stops accepting, cancels every retry and closes every connection. Transports stay open. */
  stop(): void {
    this.running = false;
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    this.unsubscribe = [];
    for (const peer of this.wanted.values()) this.timers.clearTimeout(peer.timer);
    this.wanted.clear();
    for (const connection of [...this.open.values()]) connection.close('node stopped');
  }

  /** Every connection that opens, incoming or outgoing; returns the unsubscribe function. */
  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  /** Connection state changes; returns the unsubscribe function. */
  onStateChange(listener: (event: ConnectionStateEvent) => void): () => void {
    return this.stateListeners.add(listener);
  }

  /**
   * The seed's `connectToPeer`: one attempt to reach `address` (true once connected, or if it
   * already was; connected by a less preferred transport, it tries `address.via`). Failures are
   * reported as `failed` state events, never thrown.
   */
  connectToPeer(address: PeerAddress): Promise<boolean> {
    return this.attempt(address.nodeId, [address.via]);
  }

  /** Keeps `address` connected: connects now and after every drop, with backoff, until `release`. */
  keepConnected(address: PeerAddress): void {
    if (address.nodeId === this.localId) return;
    let peer = this.wanted.get(address.nodeId);
    if (!peer) {
      peer = { routes: new Set(), attempt: 0, timer: undefined };
      this.wanted.set(address.nodeId, peer);
    }
    const isNewRoute = !peer.routes.has(address.via);
    peer.routes.add(address.via);
    // A newly found route is worth trying at once, even during a backoff wait, and also when it
    // is preferred to the connection open now.
    if (isNewRoute && this.improves(address.nodeId, address.via)) {
      this.timers.clearTimeout(peer.timer);
      peer.timer = undefined;
      void this.reach(address.nodeId);
    }
  }

  /** Discovery no longer sees the peer on `via` (or at all): stop reconnecting over it. Open connections stay. */
  release(peerId: NodeId, via?: string): void {
    const peer = this.wanted.get(peerId);
    if (!peer) return;
    if (via === undefined) peer.routes.clear();
    else peer.routes.delete(via);
    if (peer.routes.size > 0) return;
    this.timers.clearTimeout(peer.timer);
    this.wanted.delete(peerId);
  }

  /** Works offline: closes every connection and makes no attempts until `resume`. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    for (const peer of this.wanted.values()) {
      this.timers.clearTimeout(peer.timer);
      peer.timer = undefined;
    }
    for (const connection of [...this.open.values()]) connection.close('working offline');
  }

  /** Back online: reaches every wanted peer again, at once. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const [peerId, peer] of this.wanted) {
      peer.attempt = 0;
      void this.reach(peerId);
    }
  }

  /**
   * Connects a wanted peer over its routes, or over a route preferred to the one it is connected
   * by (a better way to reach it was found); if still unconnected, schedules the next try.
   */
  private async reach(peerId: NodeId): Promise<void> {
    const tried = new Set<string>();
    for (;;) {
      const peer = this.wanted.get(peerId);
      if (!peer || !this.running || this.paused) return;
      const pending = this.attempts.get(peerId);
      if (pending) {
        await pending;
        continue;
      }
      const routes = [...peer.routes].filter((via) => !tried.has(via) && this.improves(peerId, via));
      if (routes.length === 0) break;
      for (const via of routes) tried.add(via);
      await this.attempt(peerId, routes);
    }
    if (!this.open.has(peerId)) this.scheduleRetry(peerId);
  }

  private scheduleRetry(peerId: NodeId): void {
    const peer = this.wanted.get(peerId);
    if (!peer || peer.timer !== undefined || this.paused || !this.running || this.open.has(peerId)) return;
    const delay = backoffDelay(peer.attempt++, this.backoff, this.random);
    peer.timer = this.timers.setTimeout(() => {
      peer.timer = undefined;
      void this.reach(peerId);
    }, delay);
  }

  private attempt(peerId: NodeId, vias: readonly string[]): Promise<boolean> {
    if (this.open.has(peerId) && !vias.some((via) => this.improves(peerId, via))) return Promise.resolve(true);
    const pending = this.attempts.get(peerId);
    if (pending) return pending;
    const attempt = this.tryRoutes(peerId, vias).finally(() => this.attempts.delete(peerId));
    this.attempts.set(peerId, attempt);
    return attempt;
  }

  private async tryRoutes(peerId: NodeId, vias: readonly string[]): Promise<boolean> {
    if (peerId === this.localId || !this.running || this.paused) return false;
    if (!this.open.has(peerId) && this.open.size >= this.maxConnections) {
      this.emitState({ peerId, via: vias[0] ?? '', state: 'failed', reason: `at most ${this.maxConnections} connections` });
      return false;
    }
    const routes = this.transports.filter((t) => vias.includes(t.kind));
    if (routes.length === 0) {
      this.emitState({ peerId, via: vias[0] ?? '', state: 'failed', reason: `no transport for ${vias.join(', ') || 'any route'}` });
      return this.open.has(peerId);
    }
    for (const transport of routes) {
      if (!this.improves(peerId, transport.kind)) break;
      this.emitState({ peerId, via: transport.kind, state: 'connecting' });
      try {
        const connection = await transport.connect(peerId);
        // The transport may have reported the same connection to `adopt` already (simultaneous open).
        if (this.open.get(peerId) !== connection) this.adopt(connection);
        if (this.open.get(peerId) === connection) return true;
      } catch (error) {
        this.emitState({ peerId, via: transport.kind, state: 'failed', reason: (error as Error).message });
      }
    }
    return this.open.has(peerId);
  }

  /** True if `via` would be a better connection to `peerId` than the one open now (or none is). */
  private improves(peerId: NodeId, via: string): boolean {
    const current = this.open.get(peerId);
    return current === undefined || this.rank(via) < this.rank(current.via);
  }

  /** Takes a new open connection, settling duplicates the same way on both ends. */
  private adopt(connection: PeerConnection): void {
    const { peerId, via } = connection;
    if (connection.state === 'closed') return;
    if (!this.running || this.paused) {
      connection.close(this.paused ? 'working offline' : 'not accepting connections');
      return;
    }
    const existing = this.open.get(peerId);
    if (existing === connection) return;
    if (existing) {
      // Both ends see the same pair and keep the same one: the more preferred transport, and for
      // the same transport the newer connection (the older one belongs to a reloaded tab).
      if (this.rank(via) > this.rank(existing.via)) {
        connection.close('duplicate connection');
        return;
      }
      this.open.set(peerId, connection);
      const reason = `replaced by a connection over ${via}`;
      existing.close(reason);
      this.emitState({ peerId, via: existing.via, state: 'closed', reason });
    } else if (this.open.size >= this.maxConnections) {
      connection.close(`too many connections (at most ${this.maxConnections})`);
      return;
    }
    this.open.set(peerId, connection);
    const peer = this.wanted.get(peerId);
    if (peer) {
      peer.attempt = 0;
      this.timers.clearTimeout(peer.timer);
      peer.timer = undefined;
    }
    connection.onClose((reason) => this.closed(connection, reason));
    this.emitState({ peerId, via, state: 'open' });
    this.connectionListeners.emit(connection);
  }

  private closed(connection: PeerConnection, reason: string): void {
    if (this.open.get(connection.peerId) !== connection) return;
    this.open.delete(connection.peerId);
    this.emitState({ peerId: connection.peerId, via: connection.via, state: 'closed', reason });
    this.scheduleRetry(connection.peerId);
  }

  private rank(via: string): number {
    const index = this.transports.findIndex((transport) => transport.kind === via);
    return index < 0 ? this.transports.length : index;
  }

  private emitState(event: ConnectionStateEvent): void {
    this.stateListeners.emit(event);
  }
}
