import type { NodeId } from '../crdt/dot.js';
import type { WorkSlicer } from '../domain/work-slicer.js';
import type { PreparedBatch, VerifiedBatch } from '../security/change-certification.js';
import { decompressFrame, isCompressedFrame } from './frame-compression.js';
import type { PeerLink } from './peer-link.js';
import { repairBatch } from './state-repair.js';
import type { SyncContext } from './sync-context.js';
import { type DeltaMessage, type RepairMessage, type SyncMessage, compressesFrames, decodeSyncMessage, isDecodeError } from './sync-message.js';
import { VerificationBudget, type VerificationBudgetOptions } from './verification-budget.js';

/**
 * Handles one decoded message; `verified`: what checking a signed delta or repair found. A promise
 * where a large delta is applied in slices (the peer's next message waits for it).
 */
export type MessageHandler = (peer: PeerLink, message: SyncMessage, verified: VerifiedBatch | undefined) => Promise<void> | undefined;

/**
 * Messages of one peer prepared (inflated, hashed, signatures checked) ahead of the one being
 * handled: enough to keep those waits off the path while a part is applied, few enough that a peer
 * cannot make this replica hold many inflated frames at once.
 */
export const PREPARED_AHEAD = 4;

// A message ready to be handled in its turn; `checks`, where its changes are signed, to finish then.
interface Prepared {
  readonly message: SyncMessage;
  readonly checks?: PreparedBatch;
}

/** Limits of the inbound pipeline (from `SynchronizationEngineOptions`). */
export interface InboundPipelineOptions {
  readonly maxMessageBytes: number;
  readonly slicer: WorkSlicer;
  readonly verification: VerificationBudgetOptions | undefined;
}

/**
 * Every frame a peer sends, from bytes to a handled message: decoded (inflated first if
 * compressed), verified where changes are signed (within the peer's `VerificationBudget`), then
 * handed to the message handlers. The asynchronous steps keep the peer's order: a message that
 * needs one queues on the link's inbox, and so does every later message of that peer, so an ack
 * or version never overtakes the delta before it. Bad input is an offence, never a throw.
 */
export class InboundPipeline {
  /** Per peer node id for the whole session, so reconnecting does not refill it. */
  readonly #budgets = new Map<NodeId, VerificationBudget>();

  constructor(
    private readonly context: Pick<SyncContext, 'models' | 'certification' | 'logger' | 'isCurrent' | 'offence' | 'emit'>,
    private readonly options: InboundPipelineOptions,
    private readonly handle: MessageHandler,
    /** Asks `peer` for its whole version of a model (a `version` request with `rebase`). */
    private readonly rebase: (peer: PeerLink, modelId: string) => void,
  ) {}

  receive(peer: PeerLink, bytes: Uint8Array): void {
    const context = this.context;
    if (!context.isCurrent(peer)) return;
    peer.count('messagesReceived', 1);
    peer.count('bytesReceived', bytes.byteLength);
    const compressed = isCompressedFrame(bytes);
    let message: SyncMessage | undefined;
    if (!compressed) {
      const decoded = decodeSyncMessage(bytes, this.options.maxMessageBytes);
      if (isDecodeError(decoded)) return context.offence(peer, decoded.error);
      message = decoded;
      // The common case: nothing asynchronous before it, nothing to verify. Handled at once.
      if (peer.waiting === 0 && !this.mustVerify(message) && !this.mustSlice(message)) {
        const whole = this.rebuild(peer, message);
        return void (whole && this.process(peer, whole));
      }
    }
    // Inflating and verifying are asynchronous. What needs no earlier message (hashing, checking
    // signatures) starts now for a few messages ahead; what does (the checks against the
    // certificates held, applying, every other message) happens in the peer's order, so an ack or
    // version never overtakes the delta before it, and a part is checked against what the parts
    // before it left. Inflating and rebuilding versions sent as differences (`VersionCodec`) take
    // their turn too: a compressed frame is read before the frames after it. A message is read once
    // the one `PREPARED_AHEAD` places before it is handled, so a peer never has more than that many
    // inflated frames waiting here.
    peer.waiting++;
    const ahead = peer.handling.length >= PREPARED_AHEAD ? peer.handling[peer.handling.length - PREPARED_AHEAD]! : Promise.resolve();
    const warn = (error: unknown) => {
      context.logger.warn(`could not handle a message from ${peer.peerId}`, error);
      return undefined;
    };
    let read: Promise<SyncMessage | undefined>;
    if (message && peer.reading === 0) {
      // Nothing before it is still being read: its versions are rebuilt now.
      const whole = this.rebuild(peer, message);
      read = ahead.then(() => whole);
    } else {
      peer.reading++;
      read = peer.read = peer.read
        .then(() => ahead)
        .then(async () => {
          const whole = message ?? (context.isCurrent(peer) ? await this.inflate(peer, bytes) : undefined);
          return whole && context.isCurrent(peer) ? this.rebuild(peer, whole) : undefined;
        })
        .catch(warn)
        .finally(() => peer.reading--);
    }
    const prepared = read.then((whole) => whole && this.prepare(peer, whole)).catch(warn);
    const handled = peer.inbox
      .then(async () => {
        let ready = await prepared;
        if (!ready || !context.isCurrent(peer)) return;
        // A model registered while the message waited: its changes are checked now, before any apply.
        if (!ready.checks && this.mustVerify(ready.message)) ready = await this.prepare(peer, ready.message);
        if (!ready || !context.isCurrent(peer)) return;
        if (!ready.checks) return this.process(peer, ready.message);
        const verified = ready.checks.finish(peer.peerId);
        for (const problem of verified.problems) context.offence(peer, problem);
        const modelId = ready.message.t === 'repair' ? ready.message.model : (ready.message as DeltaMessage).batch.modelId;
        for (const { node, seq } of verified.equivocations) context.emit({ type: 'equivocation', peerId: peer.peerId, modelId, author: node, seq });
        return this.process(peer, ready.message.t === 'delta' ? { ...ready.message, batch: verified.batch } : ready.message, verified);
      })
      .catch((error) => context.logger.warn(`could not handle a message from ${peer.peerId}`, error))
      .finally(() => peer.waiting--);
    peer.inbox = handled;
    peer.handling.push(handled);
    if (peer.handling.length > PREPARED_AHEAD) peer.handling.shift();
  }

  /**
   * The part of handling a message that may run ahead of the messages before it: where its
   * changes are signed, spending the peer's verification budget (waiting past it) and
   * `ChangeCertification.prepare`. Undefined where there is nothing to handle (an offence).
   */
  private async prepare(peer: PeerLink, message: SyncMessage): Promise<Prepared | undefined> {
    const context = this.context;
    if (!context.isCurrent(peer)) return undefined;
    if (!this.mustVerify(message)) return { message };
    const batch = message.t === 'repair' ? repairBatch(message) : (message as DeltaMessage).batch;
    if (!batch) return void context.offence(peer, 'repair: an entity does not decode');
    const certs = (message as DeltaMessage | RepairMessage).certs;
    // Past the peer's budget of certificate checks, its stream waits (never the page).
    const wait = this.budgetOf(peer).spend(certs?.length ?? 0);
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (!context.isCurrent(peer)) return undefined;
    }
    const checks = await context.certification!.prepare(batch.modelId, batch, certs ?? [], this.options.slicer);
    return { message, checks };
  }

  private budgetOf(peer: PeerLink): VerificationBudget {
    let budget = this.#budgets.get(peer.peerId);
    if (!budget) this.#budgets.set(peer.peerId, (budget = new VerificationBudget(this.options.verification)));
    return budget;
  }

  /** A delta applied a slice at a time: it waits its turn like a verified one, so nothing overtakes it. */
  private mustSlice(message: SyncMessage): boolean {
    return message.t === 'delta' && message.batch.changes.length > this.options.slicer.itemsPerSlice;
  }

  /** A delta of a model held here, where changes are signed: checked before it is handled. */
  private mustVerify(message: SyncMessage): boolean {
    const { certification, models } = this.context;
    if (!certification) return false;
    if (message.t === 'delta') return models.has(message.batch.modelId);
    return message.t === 'repair' && models.has(message.model);
  }

  /** The message inside a compressed frame, or undefined (an offence) if it has none. */
  private async inflate(peer: PeerLink, bytes: Uint8Array): Promise<SyncMessage | undefined> {
    const { maxMessageBytes } = this.options;
    if (!compressesFrames(peer.protocol)) {
      this.context.offence(peer, 'a compressed frame, but protocol 3 was not agreed');
      return undefined;
    }
    const frame = await decompressFrame(bytes, maxMessageBytes);
    if (!this.context.isCurrent(peer)) return undefined;
    const message = 'error' in frame ? frame : decodeSyncMessage(frame, maxMessageBytes);
    if (!isDecodeError(message)) return message;
    this.context.offence(peer, message.error);
    return undefined;
  }

  /**
   * The message with its versions rebuilt (`VersionCodec`); undefined if they are malformed (an
   * offence) or do not add up here (dropped like a lost frame; the peer is asked for a whole
   * version, and the engine's usual recovery of lost deltas and acks does the rest).
   */
  private rebuild(peer: PeerLink, message: SyncMessage): SyncMessage | undefined {
    const whole = peer.versions.incoming(message);
    if ('astray' in whole) {
      if (whole.ask) {
        this.context.logger.warn(`compact versions of ${whole.astray} from ${peer.peerId} do not add up: asking for a whole version`);
        this.rebase(peer, whole.astray);
      }
      return undefined;
    }
    if (!isDecodeError(whole)) return whole;
    this.context.offence(peer, whole.error);
    return undefined;
  }

  /** Hands a message to the handlers; a failure there is a bug, counted against the peer, never thrown. */
  private process(peer: PeerLink, message: SyncMessage, verified?: VerifiedBatch): Promise<void> | undefined {
    if (!this.context.isCurrent(peer)) return;
    // Decoding validated the message; a failure here is a bug, but it must not break the
    // connection's event loop. It is the peer's input that triggered it, so it counts.
    const failed = (error: unknown) => this.context.offence(peer, `could not process ${message.t}: ${(error as Error).message}`);
    try {
      return this.handle(peer, message, verified)?.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
