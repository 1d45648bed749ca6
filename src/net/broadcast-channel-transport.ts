import type { NodeId } from '../crdt/dot.js';
import {
  defaultBroadcastChannel,
  watchPageLifecycle,
  type BroadcastChannelConstructor,
  type BroadcastChannelLike,
} from './broadcast-channel-like.js';
import { BroadcastConnection, type BroadcastConnectionHost } from './broadcast-connection.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from './logger.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-framer.js';
import { PeerLiveness } from './peer-liveness.js';
import type { PeerConnection, Transport } from './transport.js';
import { assertNodeId, assertPositive, isNodeId, isRecord, isRoom, isStringUpTo, isToken, randomToken } from './wire-guards.js';

/** Options of `BroadcastChannelTransport`. */
export interface BroadcastChannelTransportOptions {
  readonly localId: NodeId;
  readonly room: string;
  /** A `connect` with no answer fails after this long. Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** Liveness heartbeat while connections are open; a crashed tab is noticed after 2–4. Default 5 s. */
  readonly heartbeatMs?: number;
  /** Incoming connections beyond this many are refused. Default: no limit. */
  readonly maxConnections?: number;
  /** Larger messages are refused by `send` and close the connection when received. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Close every connection on `pagehide`/`freeze`. Default: when in a window. */
  readonly watchPage?: boolean;
  readonly BroadcastChannelImpl?: BroadcastChannelConstructor;
  readonly logger?: NetLogger;
  readonly now?: () => number;
}

/** The messages of the connection protocol on a room's transport channel. */
type TransportMessage =
  | { readonly t: 'open' | 'accept'; readonly from: NodeId; readonly to: NodeId; readonly conn: string }
  | { readonly t: 'close'; readonly from: NodeId; readonly to: NodeId; readonly conn: string; readonly reason: string }
  | {
      readonly t: 'data';
      readonly from: NodeId;
      readonly to: NodeId;
      readonly conn: string;
      readonly seq: number;
      readonly data: Uint8Array;
    }
  | { readonly t: 'alive'; readonly from: NodeId }
  | { readonly t: 'probe'; readonly from: NodeId; readonly to: NodeId };

interface Waiter {
  readonly resolve: (connection: PeerConnection) => void;
  readonly reject: (error: Error) => void;
}

/** Our `open` waiting for the peer's `accept`. */
interface Opening {
  readonly connectionId: string;
  readonly waiters: Waiter[];
  readonly timer: ReturnType<typeof setTimeout>;
}

const PROTOCOL = 1;
const MAX_REASON_CHARS = 200;

/** The BroadcastChannel name of a room's transport. */
export const transportChannelName = (room: string): string => `ednet-p2p/transport/${room}`;

/**
 * Connections between tabs of one browser, carried over a BroadcastChannel: addressed messages,
 * an open/accept/close handshake per connection, numbered in-order delivery, a liveness probe for
 * tabs that crash. Messages need no chunking (structured clone carries any size) but are capped.
 * With this transport two tabs sync with no server at all. Incoming connections are refused while
 * nobody listens with `onConnection`. Bad channel messages are counted in `ignoredMessages`.
 */
export class BroadcastChannelTransport implements Transport {
  readonly kind = 'broadcast';
  readonly localId: NodeId;
  readonly room: string;
  private readonly connectTimeoutMs: number;
  private readonly heartbeatMs: number;
  private readonly maxConnections: number;
  private readonly logger: NetLogger;
  private readonly liveness: PeerLiveness;
  private readonly channel: BroadcastChannelLike;
  private readonly connectionListeners: Listeners<[PeerConnection]>;
  private readonly connections = new Map<NodeId, BroadcastConnection>();
  private readonly openings = new Map<NodeId, Opening>();
  private readonly host: BroadcastConnectionHost;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly unwatchPage: () => void;
  private closed = false;
  private ignored = 0;

  constructor(options: BroadcastChannelTransportOptions) {
    assertNodeId(options.localId, 'BroadcastChannelTransport');
    if (!isRoom(options.room)) throw new TypeError(`BroadcastChannelTransport: invalid room ${JSON.stringify(options.room)}`);
    this.localId = options.localId;
    this.room = options.room;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    assertPositive(this.connectTimeoutMs, 'BroadcastChannelTransport connectTimeoutMs');
    assertPositive(this.heartbeatMs, 'BroadcastChannelTransport heartbeatMs');
    this.maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
    this.logger = options.logger ?? consoleLogger;
    this.liveness = new PeerLiveness(2 * this.heartbeatMs, this.heartbeatMs / 2, options.now);
    this.connectionListeners = new Listeners(this.logger, 'broadcast connection');
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.host = {
      maxMessageBytes,
      postData: (connection, seq, data) =>
        this.postStrict({ t: 'data', from: this.localId, to: connection.peerId, conn: connection.connectionId, seq, data }),
      closed: (connection, reason, notify) => this.forget(connection, reason, notify),
    };
    const Impl = options.BroadcastChannelImpl ?? defaultBroadcastChannel('BroadcastChannelTransport');
    this.channel = new Impl(transportChannelName(this.room));
    this.channel.onmessage = (event) => this.handle(event.data);
    const watchPage = options.watchPage ?? typeof window !== 'undefined';
    this.unwatchPage = watchPage
      ? watchPageLifecycle(() => this.closeConnections('page hidden'), () => undefined)
      : () => undefined;
  }

  /** Incoming channel messages that were malformed or broke the protocol. */
  get ignoredMessages(): number {
    return this.ignored;
  }

  connect(peer: NodeId): Promise<PeerConnection> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    if (!isNodeId(peer)) return Promise.reject(new TypeError(`invalid node id ${JSON.stringify(peer)}`));
    if (peer === this.localId) return Promise.reject(new Error('cannot connect to itself'));
    const open = this.connections.get(peer);
    if (open) return Promise.resolve(open);
    return new Promise((resolve, reject) => {
      const opening = this.openings.get(peer);
      if (opening) {
        opening.waiters.push({ resolve, reject });
        return;
      }
      if (this.connections.size + this.openings.size >= this.maxConnections) {
        reject(new Error('too many connections'));
        return;
      }
      const connectionId = `${this.localId}-${randomToken(12)}`;
      const timer = setTimeout(() => this.giveUp(peer, connectionId), this.connectTimeoutMs);
      this.openings.set(peer, { connectionId, waiters: [{ resolve, reject }], timer });
      this.post({ t: 'open', from: this.localId, to: peer, conn: connectionId });
    });
  }

  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closeConnections('transport closed');
    for (const [peer, opening] of [...this.openings]) this.failOpening(peer, opening, 'transport closed', true);
    this.closed = true;
    this.unwatchPage();
    this.channel.onmessage = null;
    this.channel.close();
    this.connectionListeners.clear();
  }

  private handle(raw: unknown): void {
    if (this.closed) return;
    const message = decodeTransportMessage(raw);
    if (typeof message === 'string') {
      this.ignore(message);
      return;
    }
    if (message.from === this.localId || ('to' in message && message.to !== this.localId)) return;
    if (this.connections.has(message.from)) this.liveness.heard(message.from);
    switch (message.t) {
      case 'open':
        this.opened(message.from, message.conn);
        break;
      case 'accept':
        this.accepted(message.from, message.conn);
        break;
      case 'close':
        this.closedByPeer(message.from, message.conn, message.reason);
        break;
      case 'data': {
        const connection = this.connections.get(message.from);
        if (connection?.connectionId !== message.conn) return; // left over from a closed connection
        const problem = connection.deliver(message.seq, message.data);
        if (problem !== undefined) this.ignore(problem);
        break;
      }
      case 'probe':
        this.post({ t: 'alive', from: this.localId });
        break;
      case 'alive':
        break;
    }
  }

  private opened(peer: NodeId, connectionId: string): void {
    const existing = this.connections.get(peer);
    if (existing?.connectionId === connectionId) return;
    // The peer opens anew while we think we are connected: it lost its end (a reload, say).
    existing?.end('peer opened a new connection', false);
    const opening = this.openings.get(peer);
    if (opening) {
      // Both sides opened at once: the lower id's connection is the one both keep.
      if (peer > this.localId) return;
      clearTimeout(opening.timer);
      this.openings.delete(peer);
      this.establish(peer, connectionId, opening.waiters);
      this.post({ t: 'accept', from: this.localId, to: peer, conn: connectionId });
      return;
    }
    const refusal =
      this.connectionListeners.size === 0
        ? 'not accepting connections'
        : this.connections.size + this.openings.size >= this.maxConnections
          ? 'too many connections'
          : undefined;
    if (refusal !== undefined) {
      this.post({ t: 'close', from: this.localId, to: peer, conn: connectionId, reason: refusal });
      return;
    }
    this.post({ t: 'accept', from: this.localId, to: peer, conn: connectionId });
    this.establish(peer, connectionId, []);
  }

  private accepted(peer: NodeId, connectionId: string): void {
    const opening = this.openings.get(peer);
    if (opening?.connectionId !== connectionId) {
      // We gave up on that attempt (timeout): tell the peer, so it does not keep a dead end.
      if (this.connections.get(peer)?.connectionId !== connectionId) {
        this.post({ t: 'close', from: this.localId, to: peer, conn: connectionId, reason: 'connection attempt abandoned' });
      }
      return;
    }
    clearTimeout(opening.timer);
    this.openings.delete(peer);
    this.establish(peer, connectionId, opening.waiters);
  }

  private closedByPeer(peer: NodeId, connectionId: string, reason: string): void {
    const connection = this.connections.get(peer);
    if (connection?.connectionId === connectionId) {
      connection.end(`closed by peer: ${reason}`, false);
      return;
    }
    const opening = this.openings.get(peer);
    if (opening?.connectionId === connectionId) this.failOpening(peer, opening, `refused by ${peer}: ${reason}`, false);
  }

  private establish(peer: NodeId, connectionId: string, waiters: readonly Waiter[]): void {
    const connection = new BroadcastConnection(peer, this.kind, this.logger, connectionId, this.host);
    connection.open();
    this.connections.set(peer, connection);
    this.liveness.heard(peer);
    this.heartbeat ??= setInterval(() => this.tick(), this.heartbeatMs);
    if (waiters.length === 0) this.connectionListeners.emit(connection);
    for (const waiter of waiters) waiter.resolve(connection);
  }

  private forget(connection: BroadcastConnection, reason: string, notify: boolean): void {
    if (this.connections.get(connection.peerId) !== connection) return;
    this.connections.delete(connection.peerId);
    this.liveness.forget(connection.peerId);
    if (notify) {
      this.post({ t: 'close', from: this.localId, to: connection.peerId, conn: connection.connectionId, reason: reason.slice(0, MAX_REASON_CHARS) });
    }
    if (this.connections.size === 0 && this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private giveUp(peer: NodeId, connectionId: string): void {
    const opening = this.openings.get(peer);
    if (opening?.connectionId !== connectionId) return;
    this.failOpening(peer, opening, `no answer from ${peer} within ${this.connectTimeoutMs} ms`, true);
  }

  private failOpening(peer: NodeId, opening: Opening, reason: string, notify: boolean): void {
    clearTimeout(opening.timer);
    this.openings.delete(peer);
    if (notify) this.post({ t: 'close', from: this.localId, to: peer, conn: opening.connectionId, reason: 'connection attempt abandoned' });
    for (const waiter of opening.waiters) waiter.reject(new Error(reason));
  }

  private tick(): void {
    this.post({ t: 'alive', from: this.localId });
    const { probe, vanished } = this.liveness.tick();
    for (const peer of probe) this.post({ t: 'probe', from: this.localId, to: peer });
    for (const peer of vanished) this.connections.get(peer)?.end('peer stopped responding (tab closed or crashed)', true);
  }

  private closeConnections(reason: string): void {
    for (const connection of [...this.connections.values()]) connection.close(reason);
  }

  private post(message: TransportMessage): void {
    try {
      this.postStrict(message);
    } catch (error) {
      this.logger.warn('broadcast transport could not post a message', error);
    }
  }

  private postStrict(message: TransportMessage): void {
    if (!this.closed) this.channel.postMessage({ v: PROTOCOL, ...message });
  }

  private ignore(reason: string): void {
    this.ignored++;
    this.logger.debug?.(`broadcast transport ignored a message: ${reason}`);
  }
}

/** Checks one incoming transport message; returns it, or why it was refused. */
export function decodeTransportMessage(raw: unknown): TransportMessage | string {
  if (!isRecord(raw)) return 'not an object';
  if (raw.v !== PROTOCOL) return `unknown protocol version ${String(raw.v)}`;
  const { t, from, to, conn } = raw;
  if (!isNodeId(from)) return 'missing or invalid sender';
  if (t === 'alive') return { t, from };
  if (!isNodeId(to)) return `${String(t)} without a valid recipient`;
  if (t === 'probe') return { t, from, to };
  if (!isToken(conn)) return `${String(t)} without a valid connection id`;
  switch (t) {
    case 'open':
    case 'accept':
      return { t, from, to, conn };
    case 'close':
      return { t, from, to, conn, reason: isStringUpTo(raw.reason, MAX_REASON_CHARS) ? raw.reason : 'no reason given' };
    case 'data': {
      const { seq, data } = raw;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'data without a valid sequence number';
      if (!(data instanceof Uint8Array)) return 'data that is not a Uint8Array';
      return { t, from, to, conn, seq, data };
    }
    default:
      return `unknown message type ${JSON.stringify(t)?.slice(0, 40)}`;
  }
}
