import type { NodeId } from '../crdt/dot.js';
import { backoffDelay, checkBackoff, type BackoffOptions } from './backoff.js';
import { RosterDiscovery } from './discovery-roster.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from './logger.js';
import { decodeServerFrame, isFrameError, PROTOCOL_VERSION, type ClientFrame, type ServerFrame } from '../protocol/signaling-protocol.js';
import { assertNodeId, assertPositive, isNodeId, isRoom } from './wire-guards.js';

/** The connection to the signaling server, as the status bar shows it. */
export const SignalingState = {
  /** Opening the WebSocket or joining the room. */
  connecting: 'connecting',
  /** In the room: peers are being reported. */
  connected: 'connected',
  /** Not connected: stopped, or waiting to retry. */
  disconnected: 'disconnected',
} as const;
export type SignalingState = (typeof SignalingState)[keyof typeof SignalingState];

/** The part of `WebSocket` the discovery uses (structural, so tests can inject a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { readonly code: number; readonly reason: string }) => void): void;
}

/** A `WebSocket`-compatible constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of `ServerBasedDiscovery`. */
export interface ServerBasedDiscoveryOptions {
  /** The signaling endpoint, e.g. `wss://example.org/signaling` (see `signalingUrl`). Give this or `urls`. */
  readonly url?: string;
  /**
   * Several signaling endpoints serving the same rooms (instances sharing Redis, or mirrors): the
   * first that answers is used; when it fails or closes, the next one is tried at once, and only
   * after every one has failed does the client wait (with backoff) before another round.
   */
  readonly urls?: readonly string[];
  readonly room: string;
  readonly nodeId: NodeId;
  /** Transport kind peers are reported reachable by. Default `webrtc`. */
  readonly via?: string;
  readonly WebSocketImpl?: WebSocketConstructor;
  /** Reconnect delays. Default 500 ms doubling up to 30 s, with jitter. */
  readonly backoff?: BackoffOptions;
  /** An app-level ping goes out this often; no answer by the next one means the server is gone. Default 10 s. */
  readonly pingIntervalMs?: number;
  /** A WebSocket still not open after this long is abandoned. Default 10 s. */
  readonly openTimeoutMs?: number;
  /** Largest frame sent (signals) and received. Default 64 KiB, the server's default. */
  readonly maxFrameBytes?: number;
  /** Retry at once when the browser reports it is back `online`. Default: when in a window. */
  readonly reconnectOnOnline?: boolean;
  readonly logger?: NetLogger;
  /** Source of jitter, for tests. */
  readonly random?: () => number;
  /**
   * Proves `nodeId` to the server: signs the connection's challenge with the device key the id is
   * derived from (`signalingProof` in src/security). Without it the client joins unproved, which a
   * server requiring proofs refuses.
   */
  readonly proveDevice?: (challenge: string) => Promise<DeviceProof>;
}

/** A device's answer to the server's challenge: its raw Ed25519 public key and signature, base64url. */
export interface DeviceProof {
  readonly key: string;
  readonly signature: string;
}

const OPEN = 1;

/** The signaling URL served next to the app: `ws(s)://<host>/signaling`. */
export function signalingUrl(location: { readonly protocol: string; readonly host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signaling`;
}

/**
 * The seed's `ServerBasedDiscovery`: a WebSocket client of the signaling server (docs/protocol.md).
 * Joins the room when the socket opens, reconnects with capped exponential backoff and jitter and
 * joins again, reports peers joining and leaving (and every peer as disconnected when the server
 * connection drops), relays WebRTC signals, pings to notice a dead server, and exposes its
 * connection state. Every server frame is checked; bad ones are logged, counted and ignored.
 */
export class ServerBasedDiscovery extends RosterDiscovery {
  /** Every endpoint it may use, in the order tried. */
  readonly urls: readonly string[];
  readonly room: string;
  readonly nodeId: NodeId;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly backoff: BackoffOptions;
  private readonly pingIntervalMs: number;
  private readonly openTimeoutMs: number;
  private readonly maxFrameBytes: number;
  private readonly reconnectOnOnline: boolean;
  private readonly random: () => number;
  private readonly proveDevice: ((challenge: string) => Promise<DeviceProof>) | undefined;
  private readonly stateListeners: Listeners<[SignalingState]>;
  private state: SignalingState = SignalingState.disconnected;
  private running = false;
  private socket: WebSocketLike | undefined;
  private joined = false;
  private failures = 0;
  /** Index in `urls` of the endpoint in use or being tried. */
  private current = 0;
  /** Endpoints not yet tried in this round: a failure moves on to one of them without waiting. */
  private untried = 0;
  private awaitingPong = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private startSettled: (() => void) | undefined;
  private startPromise: Promise<void> = Promise.resolve();
  private ignored = 0;
  private readonly onOnline = (): void => this.retryNow();

  constructor(options: ServerBasedDiscoveryOptions) {
    assertNodeId(options.nodeId, 'ServerBasedDiscovery');
    super(options.via ?? 'webrtc', options.logger ?? consoleLogger);
    if (!isRoom(options.room)) throw new TypeError(`ServerBasedDiscovery: invalid room ${JSON.stringify(options.room)}`);
    if ((options.url === undefined) === (options.urls === undefined)) throw new TypeError('ServerBasedDiscovery: give either url or urls');
    const urls = options.urls ?? [options.url as string];
    if (!Array.isArray(urls) || urls.length === 0) throw new TypeError('ServerBasedDiscovery: urls must be a non-empty array');
    for (const url of urls) if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new TypeError(`ServerBasedDiscovery: ${String(url)} is not a ws: or wss: URL`);
    this.urls = Object.freeze([...urls]);
    this.untried = this.urls.length - 1;
    this.room = options.room;
    this.nodeId = options.nodeId;
    const Impl = options.WebSocketImpl ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined);
    if (!Impl) throw new Error('ServerBasedDiscovery: this environment has no WebSocket; pass WebSocketImpl');
    this.WebSocketImpl = Impl;
    this.backoff = checkBackoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 }, 'ServerBasedDiscovery backoff');
    this.pingIntervalMs = options.pingIntervalMs ?? 10_000;
    this.openTimeoutMs = options.openTimeoutMs ?? 10_000;
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
    assertPositive(this.pingIntervalMs, 'ServerBasedDiscovery pingIntervalMs');
    assertPositive(this.openTimeoutMs, 'ServerBasedDiscovery openTimeoutMs');
    assertPositive(this.maxFrameBytes, 'ServerBasedDiscovery maxFrameBytes');
    this.reconnectOnOnline = options.reconnectOnOnline ?? typeof window !== 'undefined';
    this.random = options.random ?? Math.random;
    this.proveDevice = options.proveDevice;
    this.stateListeners = new Listeners(this.logger, 'signaling state');
  }

  /** The endpoint in use, or tried next. */
  get url(): string {
    return this.urls[this.current]!;
  }

  /** The connection to the signaling server now. */
  get connectionState(): SignalingState {
    return this.state;
  }

  /** Server frames that were malformed or not for this room. */
  get ignoredFrames(): number {
    return this.ignored;
  }

  /** Subscribes to connection state changes; returns the unsubscribe function. */
  onConnectionState(listener: (state: SignalingState) => void): () => void {
    return this.stateListeners.add(listener);
  }

  /**
   * Starts connecting. Resolves once the room is joined or the first attempt failed; it never
   * rejects, since the discovery keeps retrying in the background (the app works offline).
   */
  start(): Promise<void> {
    if (this.running) return this.startPromise;
    this.running = true;
    this.failures = 0;
    this.untried = this.urls.length - 1;
    this.startPromise = new Promise((resolve) => {
      this.startSettled = resolve;
    });
    if (this.reconnectOnOnline) globalThis.addEventListener?.('online', this.onOnline);
    this.open();
    return this.startPromise;
  }

  /** Leaves the room, closes the socket and stops retrying; every known peer is reported gone. */
  stop(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.running = false;
    if (this.reconnectOnOnline) globalThis.removeEventListener?.('online', this.onOnline);
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (socket && this.joined) this.send({ type: 'leave', room: this.room });
    this.release();
    try {
      socket?.close(1000, 'leaving');
    } catch (error) {
      this.logger.debug?.('closing the signaling socket failed', error);
    }
    this.roster.loseAll('discovery stopped');
    this.setState(SignalingState.disconnected);
    this.settleStart();
    return Promise.resolve();
  }

  sendSignal(to: NodeId, data: unknown): void {
    if (!this.joined) {
      this.logger.warn(`signal to ${to} dropped: not connected to the signaling server`);
      return;
    }
    if (!isNodeId(to)) {
      this.logger.warn(`signal dropped: invalid recipient ${JSON.stringify(to)}`);
      return;
    }
    this.send({ type: 'signal', room: this.room, to, data });
  }

  private open(): void {
    this.setState(SignalingState.connecting);
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (error) {
      this.logger.warn(`could not open a WebSocket to ${this.url}`, error);
      this.lost('could not open the socket');
      return;
    }
    this.socket = socket;
    this.openTimer = setTimeout(() => this.abandon(socket, 'the socket did not open in time'), this.openTimeoutMs);
    socket.addEventListener('open', () => {
      if (socket !== this.socket) return;
      clearTimeout(this.openTimer);
      this.awaitingPong = false;
      this.pingTimer = setInterval(() => this.ping(socket), this.pingIntervalMs);
      // The room is joined once the server's welcome came (and, asked to, the device was proved).
    });
    socket.addEventListener('message', (event) => {
      if (socket === this.socket) this.receive(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (socket === this.socket) this.lost(`the socket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
    });
    // An `error` event is always followed by `close`, which does the work.
    socket.addEventListener('error', () => undefined);
  }

  private join(): void {
    this.send({ type: 'join', room: this.room, peer: this.nodeId });
  }

  /** Answers the socket's challenge; the server's `authenticated` then lets the room be joined. */
  private prove(challenge: string): void {
    const socket = this.socket;
    this.proveDevice!(challenge).then(
      (proof) => {
        if (socket === this.socket) this.send({ type: 'auth', key: proof.key, signature: proof.signature });
      },
      (error: unknown) => this.logger.warn('could not sign the challenge of the signaling server', error),
    );
  }

  private receive(data: unknown): void {
    const frame = decodeServerFrame(data, 4 * this.maxFrameBytes);
    if (isFrameError(frame)) {
      this.ignore(frame.error);
      return;
    }
    // Any frame proves the server is alive.
    this.awaitingPong = false;
    if ('room' in frame && frame.room !== this.room) {
      this.ignore(`${frame.type} for room ${frame.room}, not ${this.room}`);
      return;
    }
    this.handle(frame);
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        if (frame.protocol !== PROTOCOL_VERSION) this.logger.warn(`signaling server speaks protocol ${frame.protocol}, this client ${PROTOCOL_VERSION}`);
        if (frame.challenge !== undefined && this.proveDevice) this.prove(frame.challenge);
        else this.join();
        break;
      case 'authenticated':
        this.join();
        break;
      case 'joined':
        if (frame.peer !== this.nodeId) {
          this.ignore(`joined as ${frame.peer}, not ${this.nodeId}`);
          return;
        }
        this.joined = true;
        this.failures = 0;
        this.untried = this.urls.length - 1;
        this.setState(SignalingState.connected);
        for (const peer of frame.peers) this.see(peer);
        this.settleStart();
        break;
      case 'peer-joined':
        if (this.joined) this.see(frame.peer);
        break;
      case 'peer-left':
        this.roster.lose(frame.peer, frame.reason);
        break;
      case 'signal':
        if (this.joined) this.roster.signal(frame.from, frame.data);
        break;
      case 'pong':
        break;
      case 'error':
        this.refused(frame.code, frame.message, frame.ref);
        break;
    }
  }

  private refused(code: string, message: string, ref: string | undefined): void {
    this.logger.warn(`signaling server refused ${ref ?? 'a frame'}: ${code}${message ? ` (${message})` : ''}`);
    if (this.joined || (ref !== undefined && ref !== 'join')) return;
    // Typically `peer-id-taken` right after a reconnect, while the server still holds the old,
    // dead socket until its heartbeat removes it; or a full room. Try joining again later.
    const socket = this.socket;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (socket === this.socket && !this.joined && socket?.readyState === OPEN) this.join();
    }, backoffDelay(this.failures++, this.backoff, this.random));
  }

  private ping(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    // Judged at the next tick, not by a timer of its own: a throttled tab's late timer must not
    // mistake a live server for a dead one, and the pong itself is never delayed.
    if (this.awaitingPong) {
      this.abandon(socket, 'the server stopped answering');
      return;
    }
    this.awaitingPong = true;
    this.send({ type: 'ping' });
  }

  /** Gives up on a socket without waiting for its close event, which a dead link delays. */
  private abandon(socket: WebSocketLike, reason: string): void {
    if (socket !== this.socket) return;
    this.lost(reason);
    try {
      socket.close(4000, reason);
    } catch (error) {
      this.logger.debug?.('closing an abandoned socket failed', error);
    }
  }

  private lost(reason: string): void {
    this.release();
    this.roster.loseAll(`signaling server connection lost: ${reason}`);
    this.setState(SignalingState.disconnected);
    this.settleStart();
    if (!this.running) return;
    // Another endpoint may answer where this one did not: try each once before backing off.
    this.current = (this.current + 1) % this.urls.length;
    let delay = 0;
    if (this.untried > 0) this.untried--;
    else {
      this.untried = this.urls.length - 1;
      delay = backoffDelay(this.failures++, this.backoff, this.random);
    }
    this.logger.debug?.(`signaling: ${reason}; trying ${this.url} in ${delay} ms`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private retryNow(): void {
    if (!this.running || this.socket) return;
    clearTimeout(this.retryTimer);
    this.failures = 0;
    this.untried = this.urls.length - 1;
    this.open();
  }

  /** Forgets the current socket and its timers. */
  private release(): void {
    this.socket = undefined;
    this.joined = false;
    clearTimeout(this.openTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.retryTimer);
  }

  private send(frame: ClientFrame): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(frame);
    } catch (error) {
      this.logger.warn(`${frame.type} frame dropped: not JSON`, error);
      return;
    }
    if (text.length > this.maxFrameBytes) {
      this.logger.warn(`${frame.type} frame dropped: ${text.length} characters exceed ${this.maxFrameBytes}`);
      return;
    }
    try {
      socket.send(text);
    } catch (error) {
      this.logger.warn(`sending a ${frame.type} frame failed`, error);
    }
  }

  private see(peer: NodeId): void {
    if (peer !== this.nodeId) this.roster.see(peer);
  }

  private setState(state: SignalingState): void {
    if (state === this.state) return;
    this.state = state;
    this.stateListeners.emit(state);
  }

  private settleStart(): void {
    this.startSettled?.();
    this.startSettled = undefined;
  }

  private ignore(reason: string): void {
    this.ignored++;
    this.logger.warn(`ignored a signaling frame: ${reason}`);
  }
}
