import type { NodeId } from '../crdt/dot.js';
import type { BackpressureOptions } from './backpressured-sender.js';
import { watchPageLifecycle } from './broadcast-channel-like.js';
import { IceGatheringWatch, type IceProblem } from './ice-gathering-watch.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from './logger.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './message-framer.js';
import type { SignalingChannel } from './peer-discovery.js';
import { RtcDataPeer } from './rtc-data-peer.js';
import type { PeerConnection, Transport } from './transport.js';
import { WebRtcConnection } from './webrtc-connection.js';
import { decodeRtcEnvelope, encodeRtcEnvelope, type RtcEnvelope, type RtcSignalData } from './webrtc-signal.js';
import { assertNodeId, assertPositive, isNodeId, randomToken } from './wire-guards.js';
import { encodeUtf8 } from '../util/utf8.js';

/** Options of `WebRtcTransport`. */
export interface WebRtcTransportOptions {
  readonly localId: NodeId;
  /** Relays offers, answers and candidates to peers: a discovery of the same room. */
  readonly signaling: SignalingChannel;
  /**
   * STUN/TURN servers. Default none: peers on one network find each other by their host
   * addresses, and no third party learns who talks to whom.
   */
  readonly iceServers?: RTCIceServer[];
  /**
   * Read for every new peer connection, instead of `iceServers`: servers whose credentials are
   * renewed (see `IceServerSource`), and the transport policy (`relay` uses the TURN relay only).
   */
  readonly iceConfiguration?: () => Pick<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'>;
  /** A `connect` not open after this long fails. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** Larger messages are refused by `send`, and close the connection when announced. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Incoming connections beyond this many are refused. Default: no limit. */
  readonly maxConnections?: number;
  /**
   * Liveness check period: a peer silent for two of these is probed, and the connection ends
   * if the probe is not answered by a later check. Default 5 s; 0 turns it off.
   */
  readonly heartbeatMs?: number;
  /** Payload bytes per data-channel frame. Default 16 KiB, which every browser accepts. */
  readonly chunkBytes?: number;
  /** When sending pauses for the data channel to drain. Default 1 MiB, resuming at 256 KiB. */
  readonly backpressure?: BackpressureOptions;
  /**
   * Close every connection, telling the peers, on `pagehide`/`freeze` (a page with open peer
   * connections cannot enter the back/forward cache). Default: when in a window.
   */
  readonly watchPage?: boolean;
  readonly logger?: NetLogger;
}

interface Waiter {
  readonly resolve: (connection: PeerConnection) => void;
  readonly reject: (error: Error) => void;
}

/** One attempt at a peer connection, named by the offering side, from the first signal to its end. */
interface Session {
  readonly id: string;
  readonly peerId: NodeId;
  readonly peer: RtcDataPeer;
  /** `connect` calls it settles; none means the peer opened it and it is announced. */
  waiters: Waiter[];
  timer: ReturnType<typeof setTimeout> | undefined;
  connection: WebRtcConnection | undefined;
  error: Error | undefined;
  /**
   * Frames that arrived before this side's `connect`: the peer, connected first, may already have
   * sent (its hello). Kept so no order of events can lose one.
   */
  early: Uint8Array[];
  earlyBytes: number;
  /** Why ICE could not connect, as far as this side can tell. */
  readonly ice: IceGatheringWatch;
  /** `onUnreachable` was told about this attempt. */
  explained: boolean;
  /** The peer sent a signal for this attempt: it is there, and ICE is what failed. */
  heard: boolean;
  /**
   * The offer or answer each side sent for this attempt: the DTLS fingerprints of the channel
   * binding come from them, as signalled. The peer connection's own `localDescription` and
   * `remoteDescription` are not read at open: the channel may open before a `remoteDescription`
   * being applied shows there, and a binding computed without it differs from the peer's, so
   * both proofs fail to verify.
   */
  localSdp: string | undefined;
  remoteSdp: string | undefined;
}

/** A peer could not be reached, and why in words (`IceProblem`). */
export interface UnreachableEvent {
  readonly peerId: NodeId;
  readonly problem: IceProblem;
}

/** A higher id's `request` waiting for the lower id's offer. */
interface Request {
  readonly waiters: Waiter[];
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * The WebRTC transport (over `RtcDataPeer`, the browser's `RTCPeerConnection`): one reliable, ordered data channel per peer, set up
 * through a `SignalingChannel`. Glare is settled by rule, not by race: the lower node id always
 * offers, the higher one asks it to (`request`), so simultaneous connects make one connection.
 * Each offer starts a session with its own id, so signals left over from an earlier attempt are
 * ignored, and a new offer from a peer replaces its old connection (the peer reloaded). Every
 * signal is checked before the peer connection sees it. Incoming connections are refused while
 * nobody listens with `onConnection`. Bad signals are counted in `ignoredSignals`.
 */
export class WebRtcTransport implements Transport {
  readonly kind = 'webrtc';
  readonly localId: NodeId;
  private readonly signaling: SignalingChannel;
  private readonly iceConfiguration: () => Pick<RTCConfiguration, 'iceServers' | 'iceTransportPolicy'>;
  private readonly unreachableListeners: Listeners<[UnreachableEvent]>;
  private readonly connectTimeoutMs: number;
  private readonly maxMessageBytes: number;
  private readonly maxConnections: number;
  private readonly chunkBytes: number | undefined;
  private readonly heartbeatMs: number;
  private readonly backpressure: BackpressureOptions | undefined;
  private readonly logger: NetLogger;
  private readonly connectionListeners: Listeners<[PeerConnection]>;
  private readonly sessions = new Map<NodeId, Session>();
  private readonly requests = new Map<NodeId, Request>();
  private readonly unsubscribeSignals: () => void;
  private readonly unwatchPage: () => void;
  private closed = false;
  private ignored = 0;

  constructor(options: WebRtcTransportOptions) {
    assertNodeId(options.localId, 'WebRtcTransport');
    this.localId = options.localId;
    this.signaling = options.signaling;
    const iceServers = [...(options.iceServers ?? [])];
    this.iceConfiguration = options.iceConfiguration ?? (() => ({ iceServers }));
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    assertPositive(this.connectTimeoutMs, 'WebRtcTransport connectTimeoutMs');
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    assertPositive(this.maxMessageBytes, 'WebRtcTransport maxMessageBytes');
    this.maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
    this.chunkBytes = options.chunkBytes;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    if (!(this.heartbeatMs >= 0)) throw new RangeError('WebRtcTransport heartbeatMs must be 0 or more');
    this.backpressure = options.backpressure;
    this.logger = options.logger ?? consoleLogger;
    this.connectionListeners = new Listeners(this.logger, 'webrtc connection');
    this.unreachableListeners = new Listeners(this.logger, 'webrtc unreachable');
    this.unsubscribeSignals = this.signaling.onSignal((from, data) => this.handleSignal(from, data));
    const watchPage = options.watchPage ?? typeof window !== 'undefined';
    this.unwatchPage = watchPage ? watchPageLifecycle(() => this.closeConnections('page hidden'), () => undefined) : () => undefined;
  }

  /** Signals that were malformed, broke the protocol or came from a session that is over. */
  get ignoredSignals(): number {
    return this.ignored;
  }

  /** Open connections of this transport. */
  get openConnections(): readonly PeerConnection[] {
    return [...this.sessions.values()].flatMap((session) => (session.connection ? [session.connection] : []));
  }

  connect(peer: NodeId): Promise<PeerConnection> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    if (!isNodeId(peer)) return Promise.reject(new TypeError(`invalid node id ${JSON.stringify(peer)}`));
    if (peer === this.localId) return Promise.reject(new Error('cannot connect to itself'));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const session = this.sessions.get(peer);
      if (session?.connection) resolve(session.connection);
      else if (session) session.waiters.push(waiter);
      else if (this.requests.has(peer)) this.requests.get(peer)?.waiters.push(waiter);
      else if (this.localId < peer) this.startSession(peer, randomToken(16), true, [waiter]);
      else this.request(peer, waiter);
    });
  }

  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.connectionListeners.add(listener);
  }

  /** Hears every attempt that failed for a reason ICE can name (no relay, relay refused); returns the unsubscribe function. */
  onUnreachable(listener: (event: UnreachableEvent) => void): () => void {
    return this.unreachableListeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeSignals();
    this.unwatchPage();
    this.closeConnections('transport closed');
    for (const [peer, request] of [...this.requests]) this.failRequest(peer, request, 'transport closed');
    this.connectionListeners.clear();
    this.unreachableListeners.clear();
  }

  private closeConnections(reason: string): void {
    for (const session of [...this.sessions.values()]) {
      if (session.connection) session.connection.close(reason);
      else this.abandon(session, reason, reason);
    }
  }

  /** The higher id asks the lower one to offer. */
  private request(peer: NodeId, waiter: Waiter): void {
    const timer = setTimeout(() => {
      const request = this.requests.get(peer);
      if (request) this.failRequest(peer, request, `no answer from ${peer} within ${this.connectTimeoutMs} ms`);
    }, this.connectTimeoutMs);
    this.requests.set(peer, { waiters: [waiter], timer });
    this.sendEnvelope(peer, { kind: 'request' });
  }

  private failRequest(peer: NodeId, request: Request, reason: string): void {
    clearTimeout(request.timer);
    if (this.requests.get(peer) === request) this.requests.delete(peer);
    for (const waiter of request.waiters) waiter.reject(new Error(reason));
  }

  private startSession(peerId: NodeId, id: string, initiator: boolean, waiters: Waiter[]): Session | undefined {
    let peer: RtcDataPeer;
    const { iceServers = [], iceTransportPolicy = 'all' } = this.iceConfiguration();
    try {
      peer = new RtcDataPeer({ initiator, config: { iceServers, iceTransportPolicy }, channelConfig: { ordered: true } });
    } catch (error) {
      for (const waiter of waiters) waiter.reject(new Error(`WebRTC is unavailable: ${(error as Error).message}`));
      return undefined;
    }
    const ice = new IceGatheringWatch(peer.pc, { iceServers, iceTransportPolicy }, (problem) => {
      // Relay only, and no relay address: nothing will ever connect, so say so now (this side's
      // own configuration, whether or not the peer answered).
      if (this.sessions.get(peerId) !== session) return;
      this.explain(session, true);
      this.abandon(session, `could not reach ${peerId}: ${problem}`, problem);
    });
    const session: Session = { id, peerId, peer, waiters, timer: undefined, connection: undefined, error: undefined, early: [], earlyBytes: 0, ice, explained: false, heard: false, localSdp: undefined, remoteSdp: undefined };
    session.timer = setTimeout(() => {
      const problem = this.explain(session);
      this.abandon(session, `could not connect to ${peerId} within ${this.connectTimeoutMs} ms${problem ? `: ${problem}` : ''}`, 'timed out');
    }, this.connectTimeoutMs);
    this.sessions.set(peerId, session);
    peer.on('signal', (data) => {
      if (data.type !== 'candidate') session.localSdp = data.sdp;
      if (this.sessions.get(peerId) === session) this.sendEnvelope(peerId, { kind: 'signal', session: id, data });
    });
    peer.on('connect', () => this.opened(session));
    peer.on('data', (data) => this.data(session, data));
    peer.on('error', (error) => {
      session.error ??= error;
    });
    peer.on('close', () => this.ended(session));
    return session;
  }

  private opened(session: Session): void {
    const channel = session.peer.channel;
    if (this.sessions.get(session.peerId) !== session || session.connection || !channel) {
      session.peer.destroy();
      return;
    }
    clearTimeout(session.timer);
    const connection = new WebRtcConnection({
      peerId: session.peerId,
      via: this.kind,
      logger: this.logger,
      session: session.id,
      channel,
      channelBinding: dtlsBinding(session),
      maxMessageBytes: this.maxMessageBytes,
      chunkBytes: this.chunkBytes,
      backpressure: this.backpressure,
      heartbeatMs: this.heartbeatMs,
      teardown: () => session.peer.destroy(),
      closed: () => {
        if (this.sessions.get(session.peerId) === session) this.sessions.delete(session.peerId);
      },
    });
    session.connection = connection;
    // The connection keeps whole messages until its first listener, so none of these is lost.
    for (const data of session.early.splice(0)) connection.frame(data);
    session.earlyBytes = 0;
    const waiters = session.waiters;
    session.waiters = [];
    if (waiters.length === 0 && this.connectionListeners.size === 0) {
      connection.close('not accepting connections');
      return;
    }
    if (waiters.length === 0) this.connectionListeners.emit(connection);
    for (const waiter of waiters) waiter.resolve(connection);
  }

  private data(session: Session, data: Uint8Array): void {
    if (session.connection) {
      session.connection.frame(data);
      return;
    }
    session.earlyBytes += data.byteLength;
    if (session.earlyBytes > this.maxMessageBytes) this.abandon(session, `${session.peerId} sent too much before the connection opened`, 'too much data before open');
    else session.early.push(data);
  }

  /** The peer connection closed, for whatever reason. */
  private ended(session: Session): void {
    clearTimeout(session.timer);
    const reason = session.error ? `connection failed: ${session.error.message}` : 'connection lost';
    if (session.connection) {
      session.connection.end(reason);
      return;
    }
    if (this.sessions.get(session.peerId) === session) this.sessions.delete(session.peerId);
    this.rejectWaiters(session, `could not connect to ${session.peerId}: ${this.explain(session) ?? reason}`);
  }

  /**
   * Names, and reports, what ICE tells of a session that did not open; undefined if it tells
   * nothing. Unless `ownConfiguration`, only for a peer that answered: one that never did (gone,
   * or listed by a server that cannot reach it with the room key) is no network problem to report.
   */
  private explain(session: Session, ownConfiguration = false): IceProblem | undefined {
    if (!session.heard && !ownConfiguration) return undefined;
    const problem = session.ice.problem();
    // A failed attempt ends by its timer and then by its close: told once.
    if (problem !== undefined && !this.closed && !session.explained) {
      session.explained = true;
      this.unreachableListeners.emit({ peerId: session.peerId, problem });
    }
    return problem;
  }

  /** Gives up on a session that is not open yet, telling the peer. */
  private abandon(session: Session, reason: string, told: string): void {
    if (session.connection) return;
    clearTimeout(session.timer);
    if (this.sessions.get(session.peerId) === session) {
      this.sessions.delete(session.peerId);
      this.sendEnvelope(session.peerId, { kind: 'close', session: session.id, reason: told });
    }
    session.peer.destroy();
    this.rejectWaiters(session, reason);
  }

  private rejectWaiters(session: Session, reason: string): void {
    const waiters = session.waiters;
    session.waiters = [];
    for (const waiter of waiters) waiter.reject(new Error(reason));
  }

  private handleSignal(from: NodeId, raw: unknown): void {
    if (this.closed) return;
    if (!isNodeId(from) || from === this.localId) {
      this.ignore(`signal from an invalid sender ${JSON.stringify(from)?.slice(0, 80)}`);
      return;
    }
    const envelope = decodeRtcEnvelope(raw);
    if (typeof envelope === 'string') {
      this.ignore(`signal from ${from}: ${envelope}`);
      return;
    }
    switch (envelope.kind) {
      case 'request':
        this.requested(from);
        break;
      case 'signal':
        this.signalled(from, envelope.session, envelope.data);
        break;
      case 'close':
        this.refused(from, envelope.session, envelope.reason);
        break;
    }
  }

  /** The higher id wants a connection: offer one, unless one is already on its way. */
  private requested(from: NodeId): void {
    if (from < this.localId) {
      this.ignore(`request from ${from}, which offers itself`);
      return;
    }
    const session = this.sessions.get(from);
    if (session && !session.connection) {
      // Either the request crossed our offer (glare) or the peer never got it (it was away, or
      // reloaded): a fresh offer serves both. The old session is dropped without a word, since
      // the peer replaces it with the new one anyway.
      clearTimeout(session.timer);
      this.sessions.delete(from);
      const waiters = session.waiters;
      session.waiters = [];
      session.peer.destroy();
      this.startSession(from, randomToken(16), true, waiters);
      return;
    }
    // It asks although we are connected: it lost its end (a reload, say).
    session?.connection?.end('peer opened a new connection');
    const refusal = this.refusal();
    if (refusal !== undefined) this.sendEnvelope(from, { kind: 'close', session: undefined, reason: refusal });
    else this.startSession(from, randomToken(16), true, []);
  }

  private signalled(from: NodeId, sessionId: string, data: RtcSignalData): void {
    const session = this.sessions.get(from);
    if (session?.id === sessionId) {
      this.feed(session, data);
      return;
    }
    if (data.type !== 'offer' || from > this.localId) {
      this.ignore(`${data.type} from ${from} for session ${sessionId}, which is not current`);
      return;
    }
    // A new offer from the lower id replaces whatever we had with it.
    const waiters = session?.waiters ?? [];
    if (session) {
      session.waiters = [];
      if (session.connection) session.connection.end('peer opened a new connection');
      else this.abandon(session, 'replaced by a newer offer', 'replaced');
    }
    const request = this.requests.get(from);
    if (request) {
      clearTimeout(request.timer);
      this.requests.delete(from);
      waiters.push(...request.waiters);
    }
    const refusal = waiters.length === 0 ? this.refusal() : undefined;
    if (refusal !== undefined) {
      this.sendEnvelope(from, { kind: 'close', session: sessionId, reason: refusal });
      return;
    }
    const started = this.startSession(from, sessionId, false, waiters);
    if (started) this.feed(started, data);
  }

  private refused(from: NodeId, sessionId: string | undefined, reason: string): void {
    if (sessionId === undefined) {
      const request = this.requests.get(from);
      if (request) this.failRequest(from, request, `refused by ${from}: ${reason}`);
      return;
    }
    const session = this.sessions.get(from);
    if (session?.id !== sessionId) return;
    if (session.connection) {
      session.connection.end(`closed by peer: ${reason}`);
      return;
    }
    clearTimeout(session.timer);
    this.sessions.delete(from);
    session.peer.destroy();
    this.rejectWaiters(session, `refused by ${from}: ${reason}`);
  }

  private feed(session: Session, data: RtcSignalData): void {
    session.heard = true;
    if (data.type !== 'candidate') session.remoteSdp = data.sdp;
    try {
      session.peer.signal(data);
    } catch (error) {
      this.logger.debug?.(`signal for a closed session with ${session.peerId} dropped`, error);
    }
  }

  /** Why a connection the peer opened would be refused now, if it would. */
  private refusal(): string | undefined {
    if (this.connectionListeners.size === 0) return 'not accepting connections';
    if (this.sessions.size >= this.maxConnections) return 'too many connections';
    return undefined;
  }

  private sendEnvelope(to: NodeId, envelope: RtcEnvelope): void {
    try {
      this.signaling.sendSignal(to, encodeRtcEnvelope(envelope));
    } catch (error) {
      this.logger.warn(`could not send a WebRTC signal to ${to}`, error);
    }
  }

  private ignore(reason: string): void {
    this.ignored++;
    this.logger.debug?.(`webrtc transport ignored a signal: ${reason}`);
  }
}

/**
 * Both DTLS certificate fingerprints of an attempt, from the offer and answer as signalled, sorted
 * so both ends compute the same bytes, or undefined when a description lacks one (then nothing is
 * bound).
 */
function dtlsBinding(session: Pick<Session, 'localSdp' | 'remoteSdp'>): Uint8Array | undefined {
  const local = fingerprintOf(session.localSdp);
  const remote = fingerprintOf(session.remoteSdp);
  if (!local || !remote) return undefined;
  return encodeUtf8(`ednet-p2p/dtls\u0000${[local, remote].sort().join('\u0000')}`);
}

function fingerprintOf(sdp: string | undefined): string | undefined {
  const match = sdp && /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  return match ? `${match[1]!.toLowerCase()} ${match[2]!.toUpperCase()}` : undefined;
}
