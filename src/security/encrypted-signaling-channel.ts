import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from '../net/logger.js';
import type { SignalingChannel } from '../net/peer-discovery.js';
import { assertNodeId, isNodeId, isRecord, isToken, randomToken } from '../net/wire-guards.js';
import { OrderedQueue } from './ordered-queue.js';
import type { SealingKeys } from './room-keys.js';
import { OpenFailureKind, isOpenFailure, open, seal } from './sealed-box.js';

/** Why an incoming signal was dropped: see `OpenFailureKind`, plus `replayed` for a repeat. */
export type SignalRejectionKind = OpenFailureKind | 'replayed';

/** An incoming signal that was dropped. */
export interface SignalRejection {
  /** The sender the relay named (a relay may lie about it: that is what the seal checks). */
  readonly from: NodeId;
  readonly kind: SignalRejectionKind;
  readonly reason: string;
}

/** Options of `EncryptedSignalingChannel`. */
export interface EncryptedSignalingChannelOptions {
  readonly logger?: NetLogger;
  /** Largest plaintext signal opened. Default 64 KiB, the signaling server's frame limit. */
  readonly maxSignalBytes?: number;
}

/** What travels inside the seal: a per-channel session, a per-recipient counter, the signal. */
interface SignalPlaintext {
  readonly s: string;
  readonly n: number;
  readonly d: unknown;
}

/** Sessions of one sender remembered for replay detection. */
const SESSIONS_PER_SENDER = 8;
const MAX_SENDERS = 1024;

/**
 * Seals every signal with the room key before it reaches the relay (signaling server or
 * BroadcastChannel) and opens every signal from it, so the relay can neither read nor alter WebRTC
 * offers, answers and candidates, and cannot put itself between two peers. The sender and
 * recipient ids are authenticated (AAD), so a signal cannot be redirected or attributed to someone
 * else; a counter inside the seal refuses signals replayed within a session. Signals that fail are
 * dropped, counted and reported: `onKeyMismatch` fires when the sender holds another room key or
 * none, which is how the UI learns "wrong or missing room key".
 */
export class EncryptedSignalingChannel implements SignalingChannel {
  private readonly logger: NetLogger;
  private readonly maxSignalBytes: number;
  private readonly signals: Listeners<[NodeId, unknown]>;
  private readonly rejections: Listeners<[SignalRejection]>;
  private readonly outgoing = new OrderedQueue<NodeId>();
  private readonly incoming = new OrderedQueue<NodeId>();
  private readonly session = randomToken(16);
  private readonly sent = new Map<NodeId, number>();
  /** Per sender, its recent sessions and the last counter seen in each (insertion = age order). */
  private readonly seen = new Map<NodeId, Map<string, number>>();
  private readonly unsubscribe: () => void;
  private rejected = 0;
  private closed = false;

  constructor(
    private readonly inner: SignalingChannel,
    readonly localId: NodeId,
    private readonly keys: SealingKeys,
    options: EncryptedSignalingChannelOptions = {},
  ) {
    assertNodeId(localId, 'EncryptedSignalingChannel');
    this.logger = options.logger ?? consoleLogger;
    this.maxSignalBytes = options.maxSignalBytes ?? 64 * 1024;
    this.signals = new Listeners(this.logger, 'signal');
    this.rejections = new Listeners(this.logger, 'signal rejection');
    this.unsubscribe = inner.onSignal((from, data) => this.receive(from, data));
  }

  /** Incoming signals dropped so far. */
  get rejectedSignals(): number {
    return this.rejected;
  }

  /** Seals `data` and hands it to the relay; signals to one peer keep their order. */
  sendSignal(to: NodeId, data: unknown): void {
    if (this.closed) {
      this.logger.warn(`signal to ${to} dropped: the encrypted channel is closed`);
      return;
    }
    const n = (this.sent.get(to) ?? 0) + 1;
    this.sent.set(to, n);
    const plaintext: SignalPlaintext = { s: this.session, n, d: data };
    void this.outgoing.run(to, async () => {
      try {
        const box = await seal(this.keys, plaintext, signalAad(this.localId, to));
        if (!this.closed) this.inner.sendSignal(to, box);
      } catch (error) {
        this.logger.warn(`signal to ${to} dropped: it could not be sealed`, error);
      }
    });
  }

  /** Subscribes to opened, authentic signals; returns the unsubscribe function. */
  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.signals.add(listener);
  }

  /** Subscribes to every dropped signal; returns the unsubscribe function. */
  onRejected(listener: (rejection: SignalRejection) => void): () => void {
    return this.rejections.add(listener);
  }

  /** Subscribes to signals from peers holding another room key, or none. */
  onKeyMismatch(listener: (rejection: SignalRejection) => void): () => void {
    return this.rejections.add((rejection) => {
      if (rejection.kind === OpenFailureKind.wrongKey || rejection.kind === OpenFailureKind.notSealed) listener(rejection);
    });
  }

  /** Resolves once every signal sent or received so far has been sealed or opened. */
  flushed(): Promise<void> {
    return Promise.all([this.outgoing.idle(), this.incoming.idle()]).then(() => undefined);
  }

  /** Stops relaying: unsubscribes from the inner channel; queued signals are dropped. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.signals.clear();
    this.rejections.clear();
  }

  private receive(from: NodeId, data: unknown): void {
    if (this.closed) return;
    if (!isNodeId(from)) {
      this.reject(from, OpenFailureKind.tampered, 'the relay named an invalid sender id');
      return;
    }
    void this.incoming.run(from, async () => {
      const opened = await open(this.keys, data, signalAad(from, this.localId), this.maxSignalBytes);
      if (this.closed) return;
      if (isOpenFailure(opened)) return this.reject(from, opened.error, opened.reason);
      const plaintext = opened.value;
      if (!isRecord(plaintext) || !isToken(plaintext.s) || !Number.isSafeInteger(plaintext.n) || !('d' in plaintext)) {
        return this.reject(from, OpenFailureKind.malformed, 'the sealed signal lacks its session, counter or data');
      }
      if (!this.fresh(from, plaintext.s, plaintext.n as number)) {
        return this.reject(from, 'replayed', `signal ${String(plaintext.n)} of this session was already received`);
      }
      this.signals.emit(from, plaintext.d);
    });
  }

  /** Records `n` of `session` from `from`; false if it is not newer than the last one seen. */
  private fresh(from: NodeId, session: string, n: number): boolean {
    let sessions = this.seen.get(from);
    if (!sessions) {
      if (this.seen.size >= MAX_SENDERS) this.seen.delete(this.seen.keys().next().value!);
      sessions = new Map();
      this.seen.set(from, sessions);
    }
    const last = sessions.get(session);
    if (last !== undefined && n <= last) return false;
    if (last === undefined && sessions.size >= SESSIONS_PER_SENDER) sessions.delete(sessions.keys().next().value!);
    sessions.set(session, n);
    return true;
  }

  private reject(from: NodeId, kind: SignalRejectionKind, reason: string): void {
    this.rejected++;
    this.logger.warn(`signal from ${String(from).slice(0, 64)} refused (${kind}): ${reason}`);
    this.rejections.emit({ from, kind, reason });
  }
}

/** Binds a sealed signal to its sender and recipient. */
const signalAad = (from: NodeId, to: NodeId): string => `ednet-p2p/signal\u0000${from}\u0000${to}`;
