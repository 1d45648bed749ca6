import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from '../net/logger.js';
import { HeldMessages } from '../net/held-messages.js';
import { ConnectionState, type PeerConnection } from '../net/transport.js';
import {
  AUTH_NONCE_BYTES,
  AUTH_VERSION,
  type AuthHello,
  authTranscript,
  decodeAuthFrame,
  encodeAuthFrame,
  isAuthFrameError,
} from './auth-frames.js';
import { DeviceIdentity } from './device-identity.js';

/** How long a handshake may take by default. */
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
/** Messages that arrive before anyone listens on the authenticated connection are kept up to this many bytes. */
const MAX_EARLY_BYTES = 64 * 1024 * 1024;

/** Why a handshake failed. */
export const AuthenticationFailureKind = {
  /** The peer did not finish in time. */
  timeout: 'timeout',
  /** A frame that is not the expected handshake frame, or not well-formed. */
  malformed: 'malformed',
  /** The peer's node id is not the connection's, or does not belong to its key. */
  wrongId: 'wrong-id',
  /** The peer's proof does not verify: forged, replayed, reflected, or another channel binding. */
  badSignature: 'bad-signature',
  /** The connection closed, or could not send, before the handshake finished. */
  closed: 'closed',
} as const;
export type AuthenticationFailureKind = (typeof AuthenticationFailureKind)[keyof typeof AuthenticationFailureKind];

/** A refused or failed handshake; the connection has been closed. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  constructor(
    readonly kind: AuthenticationFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** Options of `authenticateConnection`. */
export interface AuthenticateOptions {
  /** This device's key, which `localId` must belong to. */
  readonly identity: DeviceIdentity;
  /** This node's id, as the peer knows it. */
  readonly localId: NodeId;
  /** Default `DEFAULT_AUTH_TIMEOUT_MS`. */
  readonly timeoutMs?: number;
  /**
   * Bytes both ends know about the underlying channel (say, both DTLS fingerprints), signed with
   * the transcript so the proofs cannot be relayed onto another channel. Both sides must pass the
   * same bytes. Default: the connection's own `channelBinding` (WebRTC gives both DTLS
   * fingerprints), else none.
   */
  readonly channelBinding?: Uint8Array;
  readonly logger?: NetLogger;
}

/**
 * Proves to the peer of `connection` that this node holds the key its id belongs to, and checks
 * the same of the peer, before anything else travels: both sides send an `auth-hello` (node id,
 * public key, fresh nonce) and, once they have the other's, an `auth-proof` (a signature over both
 * hellos, see `authTranscript`). Resolves with a connection that delivers only what arrives after
 * the peer's proof. Rejects with an `AuthenticationError` and closes `connection` on a timeout, a
 * bad frame, a wrong id, a bad signature, or a close during the handshake. Throws a `TypeError`
 * for bad options, without touching the connection.
 */
export async function authenticateConnection(connection: PeerConnection, options: AuthenticateOptions): Promise<AuthenticatedConnection> {
  const { identity, localId } = options;
  if (!(identity instanceof DeviceIdentity)) throw new TypeError('authenticateConnection: identity must be a DeviceIdentity');
  if (!identity.ownsNodeId(localId)) throw new TypeError(`authenticateConnection: ${JSON.stringify(localId)} does not belong to this device`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new TypeError('authenticateConnection: timeoutMs must be a positive number');
  const channelBinding = options.channelBinding ?? connection.channelBinding;
  if (channelBinding !== undefined && !(channelBinding instanceof Uint8Array)) {
    throw new TypeError('authenticateConnection: channelBinding must be bytes');
  }
  return new Handshake(connection, identity, localId, channelBinding?.slice() ?? new Uint8Array(0), options.logger ?? consoleLogger).run(timeoutMs);
}

/** One run of the handshake over one connection. */
class Handshake {
  private readonly hello: AuthHello;
  private peerHello: AuthHello | undefined;
  /** Frames not handled yet; handled one at a time, since each step awaits WebCrypto. */
  private readonly inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private handling = false;
  private settled = false;
  private authenticated: AuthenticatedConnection | undefined;
  private readonly cleanups: Array<() => void> = [];
  private resolve!: (connection: AuthenticatedConnection) => void;
  private reject!: (error: AuthenticationError) => void;

  constructor(
    private readonly connection: PeerConnection,
    private readonly identity: DeviceIdentity,
    private readonly localId: NodeId,
    private readonly channelBinding: Uint8Array,
    private readonly logger: NetLogger,
  ) {
    const nonce = crypto.getRandomValues(new Uint8Array(AUTH_NONCE_BYTES));
    this.hello = { t: 'auth-hello', v: AUTH_VERSION, node: localId, publicKey: identity.publicKey, nonce };
  }

  run(timeoutMs: number): Promise<AuthenticatedConnection> {
    const result = new Promise<AuthenticatedConnection>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.connection.state === ConnectionState.closed) {
      this.fail(AuthenticationFailureKind.closed, 'the connection was closed before the handshake');
      return result;
    }
    const timer = setTimeout(() => this.fail(AuthenticationFailureKind.timeout, `no proof from ${this.connection.peerId} within ${timeoutMs} ms`), timeoutMs);
    this.cleanups.push(
      () => clearTimeout(timer),
      this.connection.onClose((reason) => this.fail(AuthenticationFailureKind.closed, `the connection closed during the handshake: ${reason}`)),
    );
    // Stays subscribed after success: the authenticated connection receives through it.
    const unsubscribeMessages = this.connection.onMessage((bytes) => this.receive(bytes));
    this.cleanups.push(() => {
      if (!this.authenticated) unsubscribeMessages();
    });
    this.send(encodeAuthFrame(this.hello));
    return result;
  }

  private receive(bytes: Uint8Array): void {
    if (this.authenticated) {
      this.authenticated.deliver(bytes);
      return;
    }
    if (this.settled) return;
    this.inbox.push(bytes);
    this.inboxBytes += bytes.byteLength;
    // A peer may send its sync data right after its proof; beyond this much, it is flooding.
    if (this.inboxBytes > MAX_EARLY_BYTES) this.fail(AuthenticationFailureKind.malformed, `more than ${MAX_EARLY_BYTES} bytes arrived during the handshake`);
    else void this.handleInbox();
  }

  private async handleInbox(): Promise<void> {
    if (this.handling) return;
    this.handling = true;
    try {
      while (!this.settled && this.inbox.length > 0) {
        const frame = this.inbox.shift() as Uint8Array;
        this.inboxBytes -= frame.byteLength;
        await this.handle(frame);
      }
    } catch (error) {
      // WebCrypto refused to sign: nothing the peer did, but this handshake cannot go on.
      this.fail(AuthenticationFailureKind.closed, `the handshake failed: ${(error as Error).message}`);
    } finally {
      this.handling = false;
    }
  }

  private async handle(bytes: Uint8Array): Promise<void> {
    const frame = decodeAuthFrame(bytes);
    if (isAuthFrameError(frame)) return this.fail(AuthenticationFailureKind.malformed, frame.error);
    if (!this.peerHello) {
      if (frame.t !== 'auth-hello') return this.fail(AuthenticationFailureKind.malformed, `expected auth-hello, got ${frame.t}`);
      const peerId = this.connection.peerId;
      if (frame.node !== peerId) return this.fail(AuthenticationFailureKind.wrongId, `the peer says it is ${frame.node}, but the connection is to ${peerId}`);
      if (frame.node === this.localId) return this.fail(AuthenticationFailureKind.wrongId, 'the peer claims this node\'s own id');
      if (!(await DeviceIdentity.nodeIdBelongsTo(frame.node, frame.publicKey))) {
        return this.fail(AuthenticationFailureKind.wrongId, `${frame.node} does not belong to the key the peer presented`);
      }
      this.peerHello = frame;
      const signature = await this.identity.sign(authTranscript(this.hello, frame, this.localId, this.channelBinding));
      if (!this.settled) this.send(encodeAuthFrame({ t: 'auth-proof', v: AUTH_VERSION, signature }));
      return;
    }
    if (frame.t !== 'auth-proof') return this.fail(AuthenticationFailureKind.malformed, `expected auth-proof, got ${frame.t}`);
    const transcript = authTranscript(this.hello, this.peerHello, this.peerHello.node, this.channelBinding);
    if (!(await DeviceIdentity.verify(this.peerHello.publicKey, frame.signature, transcript))) {
      return this.fail(AuthenticationFailureKind.badSignature, `the proof of ${this.peerHello.node} does not verify`);
    }
    this.succeed(this.peerHello);
  }

  private send(frame: Uint8Array): void {
    this.connection.send(frame).catch((error: unknown) => {
      this.fail(AuthenticationFailureKind.closed, `could not send a handshake frame: ${(error as Error)?.message ?? error}`);
    });
  }

  private succeed(peerHello: AuthHello): void {
    if (this.settled) return;
    this.settled = true;
    this.authenticated = new AuthenticatedConnection(this.connection, peerHello.publicKey, this.logger);
    // What followed the proof in the same burst belongs to the authenticated connection, in order.
    for (const frame of this.inbox.splice(0)) this.authenticated.deliver(frame);
    this.inboxBytes = 0;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.resolve(this.authenticated);
  }

  private fail(kind: AuthenticationFailureKind, message: string): void {
    if (this.settled) return;
    this.settled = true;
    this.inbox.length = 0;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (kind !== AuthenticationFailureKind.closed || this.connection.state !== ConnectionState.closed) {
      this.connection.close(`authentication failed: ${message}`);
    }
    this.reject(new AuthenticationError(kind, message));
  }
}

/**
 * A connection whose peer proved that its node id belongs to `peerPublicKey`. It delivers only
 * messages that arrived after the peer's proof, keeping them until the first listener subscribes.
 */
export class AuthenticatedConnection implements PeerConnection {
  private readonly messages: HeldMessages;
  private readonly closeListeners: Listeners<[string]>;
  private closeReason: string | undefined;

  /** @internal Made by `authenticateConnection`. */
  constructor(
    private readonly inner: PeerConnection,
    /** The peer's raw Ed25519 public key, which its node id belongs to. */
    readonly peerPublicKey: Uint8Array<ArrayBuffer>,
    private readonly logger: NetLogger,
  ) {
    this.messages = new HeldMessages(logger, 'authenticated message', MAX_EARLY_BYTES, (reason) => this.close(reason));
    this.closeListeners = new Listeners(logger, 'authenticated close');
    inner.onClose((reason) => this.closed(reason));
  }

  get peerId(): NodeId {
    return this.inner.peerId;
  }

  get via(): string {
    return this.inner.via;
  }

  get channelBinding(): Uint8Array | undefined {
    return this.inner.channelBinding;
  }

  get state(): ConnectionState {
    return this.inner.state;
  }

  send(message: Uint8Array): Promise<void> {
    return this.inner.send(message);
  }

  onMessage(listener: (message: Uint8Array) => void): () => void {
    return this.messages.add(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    if (this.closeReason === undefined) return this.closeListeners.add(listener);
    // Subscribing late still hears about the close, once.
    const reason = this.closeReason;
    let subscribed = true;
    queueMicrotask(() => {
      if (!subscribed) return;
      try {
        listener(reason);
      } catch (error) {
        this.logger.warn('a close listener threw', error);
      }
    });
    return () => {
      subscribed = false;
    };
  }

  close(reason?: string): void {
    this.inner.close(reason);
  }

  /** @internal A message from the peer, after its proof. */
  deliver(message: Uint8Array): void {
    if (this.closeReason !== undefined) return;
    this.messages.deliver(message);
  }

  private closed(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.closeListeners.emit(reason);
    this.closeListeners.clear();
    this.messages.clear();
  }
}
