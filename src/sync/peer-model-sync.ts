import { VersionVector } from '../crdt/index.js';

/** A delta sent and not yet known to have been processed (or lost). */
interface PendingDelta {
  readonly seq: number;
  /** The sender's version the delta carries. */
  readonly version: VersionVector;
}

/**
 * What this node knows about one peer's copy of one model, over one connection.
 *
 * `known` is what the peer holds or will hold: its last report plus every delta sent
 * after the report was made. Deltas are computed from it, so nothing is sent twice and nothing is
 * echoed. It may only err low (a duplicate); erring high would lose changes, so a report always
 * replaces it: the peer says which deltas it had seen when it reported (`seen`), and only the
 * deltas after that are added back. A delta lost on the way is then sent again.
 */
export class PeerModelSync {
  #known: VersionVector;
  #confirmed: VersionVector | null;
  #pending: PendingDelta[] = [];
  #stalledAt: VersionVector | null = null;
  #delivered = new VersionVector();
  /** The in-sync state last reported by an event, so only changes are reported. */
  lastInSync = false;
  /** The version of the peer's last delta, while its ack waits for the delta to be stored here. */
  awaitingAck: VersionVector | null = null;
  /** The seq of that delta. */
  awaitingAckSeq = 0;
  /** The peer's last digest report, with the version it holds exactly (null: none since its last version). */
  reportedDigest: { readonly root: string; readonly version: VersionVector } | null = null;
  /** The version at which a repair with this peer was last started (one try per version). */
  repairedAt: string | null = null;

  constructor(reported?: VersionVector) {
    this.#known = reported?.clone() ?? new VersionVector();
    this.#confirmed = reported?.clone() ?? null;
  }

  /** What the peer holds or will hold once the deltas in flight arrive. Do not mutate. */
  get known(): VersionVector {
    return this.#known;
  }

  /** Every version the peer reported or proved by sending it; null before the first. Do not mutate. */
  get confirmed(): VersionVector | null {
    return this.#confirmed;
  }

  /** Deltas sent and not yet acknowledged. */
  get unacked(): number {
    return this.#pending.length;
  }

  /** A delta numbered `seq` carrying `version` went to the peer. */
  sent(seq: number, version: VersionVector): void {
    this.#pending.push({ seq, version: version.clone() });
    this.#known.mergeWith(version);
  }

  /**
   * What this link accounts for: what this node held when the connection's exchange began, and
   * every delta the peer sent since. A delta within it that brings nothing new is a resend, or an
   * answer to a claim that lagged behind what was held (changes still being stored): not a
   * change that came another way first, so it must not prune the link.
   */
  get delivered(): VersionVector {
    return this.#delivered;
  }

  /** `version` came over this link, or was held here when its exchange began. */
  deliveredHere(version: VersionVector): void {
    this.#delivered.mergeWith(version);
  }

  /** The peer sent a delta with `version` as its context: it holds all of it. */
  holds(version: VersionVector): void {
    this.#known.mergeWith(version);
    this.#confirm(version);
  }

  /** The peer reported `version` after processing (or losing) every delta up to `seen`. */
  reported(version: VersionVector, seen: number): void {
    this.#pending = this.#pending.filter((delta) => delta.seq > seen);
    this.#known = version.clone();
    for (const delta of this.#pending) this.#known.mergeWith(delta.version);
    this.#confirm(version);
  }

  /**
   * The `seen` a version report of ours may carry, given the highest delta seq received on the
   * connection: a report says what is stored here, so a delta still being stored (its ack waits)
   * counts as not seen yet. Else the peer, finding its delta missing from the report, takes it as
   * lost and sends it again, and the duplicate prunes the link.
   */
  reportableSeen(seenSeq: number): number {
    return this.awaitingAck ? Math.min(seenSeq, this.awaitingAckSeq - 1) : seenSeq;
  }

  /**
   * After an ack saying the peer could not adopt a delta: whether to send again now. Not if the
   * peer reports the same version as after the last such resend: it refuses something, and
   * sending it again at once would only repeat that (anti-entropy retries later).
   */
  shouldResend(version: VersionVector): boolean {
    if (this.#stalledAt?.equals(version)) return false;
    this.#stalledAt = version.clone();
    return true;
  }

  /** A delta was adopted or a fresh exchange began: resends are worth trying again. */
  progressed(): void {
    this.#stalledAt = null;
  }

  #confirm(version: VersionVector): void {
    if (this.#confirmed) this.#confirmed.mergeWith(version);
    else this.#confirmed = version.clone();
  }
}
