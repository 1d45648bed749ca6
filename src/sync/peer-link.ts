import type { NodeId } from '../crdt/dot.js';
import type { VersionVector } from '../crdt/index.js';
import type { PeerConnection } from '../net/transport.js';
import { PeerModelSync } from './peer-model-sync.js';
import { type PeerModelStatus, type PeerStatus, type SyncCounters, emptyCounters } from './sync-engine-event.js';
import { COMPRESS_MIN_BYTES, compressFrame } from './frame-compression.js';
import { VersionCodec, compactsVersions } from './compact-versions.js';
import { type SyncMessage, compressesFrames, deltaEncodingFor, encodeSyncMessage } from './sync-message.js';

/** The parts of a delta arriving so far. */
interface IncomingDelta {
  readonly seq: number;
  readonly part: number;
  readonly broken: boolean;
}

/**
 * The sync engine's side of one connection: the handshake state, the models both sides hold,
 * delta numbering both ways, offences and traffic counters.
 */
export class PeerLink {
  /** The protocol agreed in the handshake; null until the peer's hello arrived. */
  protocol: number | null = null;
  /** The display name the peer chose. Untrusted text. */
  name: string | null = null;
  offences = 0;
  readonly counters = emptyCounters();
  /** Unsubscribe functions of the connection's listeners. */
  readonly unsubscribe: Array<() => void> = [];
  /** The seq of the last delta sent on this connection. */
  sentSeq = 0;
  /** The highest delta seq received, or known lost, on this connection. */
  seenSeq = 0;
  /**
   * The tail of this peer's messages waiting for an asynchronous step (inflating a compressed
   * frame, verifying signatures), in order; `waiting` counts them, so later messages queue too.
   */
  inbox: Promise<void> = Promise.resolve();
  waiting = 0;
  /** The last few of those, each settling once handled: the inbound pipeline prepares later ones ahead only so far. */
  readonly handling: Array<Promise<void>> = [];
  /** The tail of those messages being read (inflated, versions rebuilt), which happens in order; `reading` counts them. */
  read: Promise<unknown> = Promise.resolve();
  reading = 0;
  /** Per model, the version this node last claimed to the peer (hello, delta, ack or report). */
  readonly told = new Map<string, VersionVector>();
  /** The versions sent and heard on this connection, so each message carries only what changed (protocol 5). */
  readonly versions = new VersionCodec();
  readonly #models = new Map<string, PeerModelSync>();
  #incoming: IncomingDelta | null = null;
  // The last send waiting for a compression, if any: later sends queue behind it.
  #sending: Promise<void> | null = null;

  constructor(
    readonly connection: PeerConnection,
    /** Engine-wide counters, counted along with this link's. */
    private readonly totals: SyncCounters,
    private readonly onSendError: (error: unknown) => void,
  ) {}

  get peerId(): NodeId {
    return this.connection.peerId;
  }

  get ready(): boolean {
    return this.protocol !== null;
  }

  /** What we know of the peer's copy of `modelId`, if both sides hold it. */
  model(modelId: string): PeerModelSync | undefined {
    return this.#models.get(modelId);
  }

  /** True if both sides are known to hold `modelId`. */
  shares(modelId: string): boolean {
    return this.#models.has(modelId);
  }

  /** The state for `modelId`, made now if this is the first sign the peer holds it. */
  share(modelId: string, reported?: VersionVector): PeerModelSync {
    let state = this.#models.get(modelId);
    if (!state) {
      state = new PeerModelSync(reported);
      this.#models.set(modelId, state);
    }
    return state;
  }

  /** Forgets `modelId` (it was unregistered here). */
  unshare(modelId: string): void {
    this.#models.delete(modelId);
  }

  /**
   * Records one arriving part of delta `seq` (`refused`: its content was refused); true if a part
   * before it went missing or was refused, so the delta's version must not be adopted. The last
   * part also advances `seenSeq`.
   */
  receivedPart(seq: number, part: number, parts: number, refused = false): boolean {
    const previous = this.#incoming;
    const broken = part !== 1 && (previous === null || previous.seq !== seq || previous.part !== part - 1 || previous.broken);
    const last = part === parts;
    this.#incoming = last ? null : { seq, part, broken: broken || refused };
    if (last) this.seenSeq = Math.max(this.seenSeq, seq);
    return broken;
  }

  /**
   * The peer says it sent deltas up to `seq`. Messages arrive in order, so any of them not here
   * yet is lost. True if some were.
   */
  sentUpTo(seq: number): boolean {
    if (seq <= this.seenSeq) return false;
    this.seenSeq = seq;
    if (this.#incoming && this.#incoming.seq <= seq) this.#incoming = null;
    return true;
  }

  /**
   * Encodes, counts and sends one message; a failed send is reported, never thrown. Large frames
   * are compressed where the protocol allows, which takes a moment: messages sent meanwhile wait,
   * and are encoded only in their turn (each in its own task after the compression before it), so
   * the peer gets everything in the order it was sent, versions sent as differences are taken in
   * that order, and the first part of a large delta leaves while the next ones are still encoded
   * instead of after all of them.
   */
  send(message: SyncMessage): void {
    this.count('messagesSent', 1);
    if (!this.#sending) {
      const bytes = this.#encode(message);
      if (!this.#compresses(bytes)) return this.#transmit(bytes);
      return this.#queue(() => bytes);
    }
    this.#queue(() => this.#encode(message));
  }

  #encode(message: SyncMessage): Uint8Array {
    return encodeSyncMessage(this.versions.outgoing(message, compactsVersions(this.protocol)), deltaEncodingFor(this.protocol));
  }

  #compresses(bytes: Uint8Array): boolean {
    return compressesFrames(this.protocol) && bytes.byteLength >= COMPRESS_MIN_BYTES;
  }

  /** Sends what `encode` makes once every send queued before it went. */
  #queue(encode: () => Uint8Array): void {
    const queued = (this.#sending ?? Promise.resolve()).then(async () => {
      try {
        const bytes = encode();
        const frame = this.#compresses(bytes) ? await compressFrame(bytes).catch(() => bytes) : bytes;
        this.#transmit(frame);
      } catch (error) {
        // Reported like a failed send; the messages queued after it still go.
        this.onSendError(error);
      }
    });
    this.#sending = queued;
    void queued.then(() => {
      if (this.#sending === queued) this.#sending = null;
    });
  }

  #transmit(frame: Uint8Array): void {
    this.count('bytesSent', frame.byteLength);
    this.connection.send(frame).catch(this.onSendError);
  }

  /** Adds to one counter, here and engine-wide. */
  count(key: keyof SyncCounters, amount: number): void {
    this.counters[key] += amount;
    this.totals[key] += amount;
  }

  /** A snapshot for `peerStatus()`; `inSync` says whether we are in sync on a model. */
  status(inSync: (modelId: string) => boolean): PeerStatus {
    const models: PeerModelStatus[] = [...this.#models].map(([modelId, state]) => ({
      modelId,
      inSync: inSync(modelId),
      confirmed: state.confirmed?.clone() ?? null,
      unacked: state.unacked,
    }));
    return {
      peerId: this.peerId,
      via: this.connection.via,
      ready: this.ready,
      name: this.name,
      counters: { ...this.counters },
      offences: this.offences,
      models,
    };
  }
}
