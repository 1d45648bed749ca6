import { type CausalContext, DIGEST_BUCKETS, type HybridLogicalClock, type NodeId, VersionVector, bucketOf } from '../crdt/index.js';
import { ValidationError } from './attribute-rules.js';
import { AdoptionGuard } from './adoption-guard.js';
import { DECODE_LIMITS, batchEnvelopeProblem, decodeChange, decodeEntityState, decodeSnapshot, decodedVersions, isDecodeError } from './change-decoder.js';
import { type EntityRecord, stateToChanges } from './entity-record.js';
import { type ApplyChangesResult, CHANGE_FORMAT, type ChangeBatch, type EntityState, type ModelChange, type ModelSnapshot, type RejectedChange } from './model-change.js';
import type { ModelNotifier } from './model-notifier.js';
import { type RemovalEvidence, evidencedContext } from './removal-evidence.js';
import { type ReplicaState, newTouched } from './replica-state.js';
import type { ModelDigest } from './state-digest.js';
import type { ApplyChangesOptions, SynchronizableDomainModel } from './synchronizable-domain-model.js';

/** What a `ModelReplica` shares with the `DomainModel` that owns it. */
export interface ModelReplicaOptions {
  readonly modelId: string;
  readonly nodeId: NodeId;
  readonly clock: HybridLogicalClock;
  readonly state: ReplicaState;
  readonly notifier: ModelNotifier;
  /** The model's ownership rule (`DomainModel.authorizationProblem`), asked once per author of a remote change. */
  readonly authorizationProblem: (concept: string, oid: string, author: NodeId) => string | undefined;
  /** The `ValidationError` rule `mergeEntity` throws when `authorizationProblem` refuses a change. */
  readonly authorizationRule: (concept: string) => string;
}

/**
 * The replication half of a `DomainModel`: what the sync engine and storage do with it (version,
 * deltas out and in, snapshots, stored state, digests and repairs, and the ownership checks every
 * remote change passes). Local edits are the other half, `DomainModel` itself; both work on one
 * `ReplicaState` and report through one `ModelNotifier`. Remote input is validated here, at the
 * boundary, and a rejected change never alters state. See docs/architecture.md.
 */
export class ModelReplica implements Omit<SynchronizableDomainModel, 'resolveConflicts' | 'onChange'> {
  readonly modelId: string;
  readonly nodeId: NodeId;
  readonly #clock: HybridLogicalClock;
  readonly #state: ReplicaState;
  readonly #notifier: ModelNotifier;
  readonly #authorizationProblem: ModelReplicaOptions['authorizationProblem'];
  readonly #authorizationRule: ModelReplicaOptions['authorizationRule'];
  readonly #adoption = new AdoptionGuard();

  constructor(options: ModelReplicaOptions) {
    this.modelId = options.modelId;
    this.nodeId = options.nodeId;
    this.#clock = options.clock;
    this.#state = options.state;
    this.#notifier = options.notifier;
    this.#authorizationProblem = options.authorizationProblem;
    this.#authorizationRule = options.authorizationRule;
  }

  /** What this replica has seen. A copy: mutating it changes nothing. */
  get version(): VersionVector {
    return this.#state.version.clone();
  }

  /** The seq the next own operation will use at the earliest. */
  get nextSeq(): number {
    return this.#state.nextSeq;
  }

  /**
   * Marks own seqs 1..`seq` as used and seen, so they are never used again. Storage calls it after
   * a reload with the end of what it had reserved: seqs reserved but never written leave no gap.
   */
  markOwnSequenceUsedUpTo(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
    this.#state.markOwnSequenceUsedUpTo(seq);
  }

  /**
   * Never uses own seqs up to `seq` again, without claiming them seen: storage calls it when it
   * gives up the claims of a damaged record of this node's own, so peers send those items back
   * while no new write reuses their seqs.
   */
  skipOwnSequencesUpTo(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
    this.#state.skipOwnSequencesUpTo(seq);
  }

  // ---------------------------------------------------------------- synchronization

  /** Every change the holder of `since` lacks; cost proportional to those changes (touch log). */
  getChangesSince(since: VersionVector): ModelChange[] {
    return this.#state.changesSince(since);
  }

  /** `getChangesSince(since)` with `since` and this replica's version, ready to send. */
  getDelta(since: VersionVector): ChangeBatch {
    return { format: CHANGE_FORMAT, modelId: this.modelId, since: since.toJSON(), version: this.#state.version.toJSON(), changes: this.getChangesSince(since) };
  }

  /**
   * Merges changes from a peer. Every change is validated (structure unless the batch came from
   * `decodeChangeBatch`, then concept, attribute or relation, value type and size, clock drift,
   * forged or uncovered dots); a rejected change alters nothing. Accepted changes are joined with
   * the batch's `version` as the sender's causal context (a plain array: each change's own dots).
   * The version is adopted only if this replica already holds `since`, nothing was rejected, and
   * this is the last part; otherwise no dot is added (see docs/architecture.md) and `complete` is
   * false if a full exchange is needed.
   */
  applyChanges(input: ChangeBatch | readonly ModelChange[], options: ApplyChangesOptions = {}): ApplyChangesResult {
    const rejected: RejectedChange[] = [];
    let list: readonly unknown[] = input as readonly unknown[];
    let context: VersionVector | undefined;
    let covered = true;
    let structured = false;
    const batch = Array.isArray(input) ? undefined : (input as ChangeBatch);
    if (batch) {
      const problem = batchEnvelopeProblem(batch, this.modelId);
      if (problem) return { applied: 0, ignored: 0, rejected: [{ change: input, reason: problem }], conflicts: [], complete: false };
      const decoded = decodedVersions(batch);
      context = decoded?.version ?? VersionVector.fromJSON(batch.version);
      covered = this.#state.version.includes(decoded?.since ?? VersionVector.fromJSON(batch.since));
      structured = decoded !== undefined;
      list = batch.changes;
      if (context.maxSeen(this.nodeId) >= this.nextSeq)
        rejected.push({ change: batch.version, reason: `the batch version claims operations of ${this.nodeId} that it never made` });
    }
    const touched = newTouched();
    const limitMs = this.#clock.wallClock() + this.#clock.maxDriftMs;
    let applied = 0;
    let ignored = 0;
    for (const raw of list) {
      const change = structured ? (raw as ModelChange) : decodeChange(raw);
      const problem = isDecodeError(change) ? change.error : (this.#state.changeProblem(change, context, limitMs) ?? this.#authorProblem(change));
      if (problem) rejected.push({ change: raw, reason: problem });
      else if (this.#state.ingest(change as ModelChange, this.#dropContext(change as ModelChange, context, options.evidence), touched)) applied++;
      else ignored++;
    }
    const complete = covered && rejected.length === 0;
    let adopted = false;
    if (batch && context && this.#adoption.mayAdopt(batch, covered, rejected.length > 0)) adopted = this.#adopt(context);
    const conflicts = this.#state.settle(touched);
    this.#notifier.emit('remote', touched, { adopted });
    return { applied, ignored, rejected, conflicts, complete };
  }

  // The context `change` may drop held state with: the sender's, or where drops need signed
  // evidence, only what the change's own items prove (see `evidencedContext`).
  #dropContext(change: ModelChange, context: VersionVector | undefined, evidence: RemovalEvidence | undefined): CausalContext | undefined {
    if (!context || !evidence) return context;
    const held = () => (change.kind === 'attribute' ? (this.#state.records.get(change.oid)?.registers.get(change.attribute)?.writes ?? []) : []);
    return evidencedContext(change, context, evidence, held);
  }

  /** The whole model with its version, in canonical order (equal states serialize equally). */
  getSnapshot(): ModelSnapshot {
    return { format: CHANGE_FORMAT, modelId: this.modelId, version: this.#state.version.toJSON(), entities: this.getEntityStates() };
  }

  /**
   * Merges a snapshot of this model: a full-state join, never discarding local state except
   * writes the snapshot's replica had seen and superseded. False (and nothing changes) for another
   * model's snapshot or one failing validation.
   */
  initializeFromSnapshot(snapshot: ModelSnapshot, options: ApplyChangesOptions = {}): boolean {
    const decoded = decodeSnapshot(snapshot);
    if (isDecodeError(decoded) || decoded.modelId !== this.modelId) return false;
    const context = VersionVector.fromJSON(decoded.version);
    if (context.maxSeen(this.nodeId) >= this.nextSeq) return false;
    const changes = decoded.entities.flatMap(stateToChanges);
    const limitMs = this.#clock.wallClock() + this.#clock.maxDriftMs;
    if (decoded.entities.some((entity) => this.#state.conceptProblem(entity.entityType))) return false;
    if (changes.some((change) => this.#state.changeProblem(change, context, limitMs) ?? this.#authorProblem(change))) return false;
    const touched = newTouched();
    const listed = new Set<string>();
    for (const change of changes) {
      this.#state.ingest(change, this.#dropContext(change, context, options.evidence), touched);
      listed.add(`${change.oid}\u0000${change.kind === 'attribute' ? change.attribute : `/${change.relation}`}`);
    }
    // What the snapshot does not list at all is dropped only on the snapshot's word: never where
    // drops need evidence (nothing of it is there to prove one).
    if (!options.evidence) this.#state.joinUnlisted(listed, context, touched);
    const adopted = this.#adopt(context);
    this.#state.settle(touched);
    this.#notifier.emit('remote', touched, { adopted });
    return true;
  }

  // ---------------------------------------------------------------- storage

  /** Entity states for storage: the given oids (unknown ones skipped), or all; sorted by oid. */
  getEntityStates(oids?: Iterable<string>): EntityState[] {
    const records: EntityRecord[] = [];
    for (const oid of oids ?? this.#state.records.keys()) {
      const record = this.#state.records.get(oid);
      if (record && !record.isEmpty()) records.push(record);
    }
    return records.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0)).map((record) => record.toState());
  }

  /**
   * Joins stored state (at startup, or after another tab wrote) with `version` as its causal
   * context, then adopts `version`. `entities` must hold every entity with a dot of `version` this
   * model lacks (all stored entities, or the ones written since the last load). Stored state is
   * this replica's own: no clock-drift check, but structure and schema are checked and bad
   * entities skipped (then the version is not adopted). Emits a `remote` change. The entities are
   * handed over: the model keeps their writes and dots (storage hands out fresh objects on every
   * load), so nothing may change them afterwards.
   */
  loadState(entities: readonly EntityState[], version: VersionVector): ApplyChangesResult {
    const rejected: RejectedChange[] = [];
    const touched = newTouched();
    const counts = { applied: 0, ignored: 0 };
    for (const raw of entities) {
      const state = decodeEntityState(raw, DECODE_LIMITS, { inPlace: true });
      if (isDecodeError(state)) {
        rejected.push({ change: raw, reason: state.error });
        continue;
      }
      // Checked once per entity, then joined register by register without making changes.
      const problem = this.#state.storedStateProblem(state);
      if (problem) rejected.push({ change: raw, reason: problem });
      else this.#state.joinState(state, version, touched, counts);
    }
    const adopted = !rejected.length && this.#adopt(version);
    const conflicts = this.#state.settle(touched);
    this.#notifier.emit('remote', touched, { adopted });
    return { applied: counts.applied, ignored: counts.ignored, rejected, conflicts, complete: rejected.length === 0 };
  }

  /**
   * Joins one entity's state from another replica, with that replica's version as context, without
   * adopting it (used by `CRDTEntity.mergeWith`). Validated like remote changes; throws
   * `ValidationError` if invalid. True if anything changed.
   */
  mergeEntity(state: EntityState, context: VersionVector): boolean {
    const decoded = decodeEntityState(state);
    if (isDecodeError(decoded)) throw new ValidationError(state.entityType, undefined, 'type', decoded.error);
    const changes = stateToChanges(decoded);
    const limitMs = this.#clock.wallClock() + this.#clock.maxDriftMs;
    const problem =
      this.#state.conceptProblem(decoded.entityType) ?? changes.map((change) => this.#state.changeProblem(change, context, limitMs)).find(Boolean);
    if (problem) throw new ValidationError(decoded.entityType, undefined, 'type', problem);
    const refused = changes.map((change) => this.#authorProblem(change)).find(Boolean);
    if (refused) throw new ValidationError(decoded.entityType, undefined, this.#authorizationRule(decoded.entityType), refused);
    const touched = newTouched();
    for (const change of changes) this.#state.ingest(change, context, touched);
    this.#state.settle(touched);
    this.#notifier.emit('remote', touched);
    return touched.records.size > 0;
  }

  // ---------------------------------------------------------------- digest

  /**
   * A digest of this replica's entity states: equal on two replicas exactly when
   * `getEntityStates()` is (up to 64-bit hash collisions), whatever order changes arrived in.
   * Versions say what a replica has seen, the digest what it holds. Cheap: entities changed since
   * the last call are rehashed, the rest is cached.
   */
  digest(): ModelDigest {
    return this.#state.digest.digest();
  }

  /**
   * Rehashes at most `maxEntities` of the entities changed since the digest was last brought up
   * to date; true once it is. A large arrival can so be hashed a slice at a time (see `WorkSlicer`).
   */
  refreshDigest(maxEntities: number): boolean {
    return this.#state.digest.refreshSome(maxEntities);
  }

  /**
   * The hashes of the digest's `DIGEST_BUCKETS` buckets (16 hex digits each), in bucket order.
   * An entity's bucket depends on its oid only; `differingBuckets` compares two lists.
   */
  digestBuckets(): string[] {
    return this.#state.digest.buckets();
  }

  /**
   * Each entity holding state in one of `buckets`, as `[oid, hash]` sorted by oid, so a peer can
   * find exactly the entities that differ (`entityStateHash` of its own states gives its side).
   * Bucket numbers outside 0–255 select nothing.
   */
  entityDigestsInBuckets(buckets: readonly number[]): Array<readonly [oid: string, hash: string]> {
    const digest = this.#state.digest;
    return this.#recordsInBuckets(buckets).map((record) => [record.oid, digest.entityHash(record)] as const);
  }

  /** The states of the entities in `buckets`, sorted by oid: what a peer whose buckets differ lacks. */
  entityStatesInBuckets(buckets: readonly number[]): EntityState[] {
    return this.#recordsInBuckets(buckets).map((record) => record.toState());
  }

  /**
   * Repairs this replica from entity states another replica holds, with that replica's
   * `version`: for replicas whose versions agree but whose digests do not, where a join trusting
   * either version would drop what the other holds. Untrusted input: each state is decoded and
   * checked like remote changes (a state failing any check is rejected whole and changes
   * nothing), and a `version` claiming operations of this node it never made rejects everything.
   * Each state is joined as `ReplicaState.repairState` says: what it holds comes back, and what
   * this replica holds is dropped only where the other state shows a later write or removal
   * marks (so a repair drops nothing a delta with that version could not; with `options.evidence`,
   * a child only on a signed mark naming it). This replica's version is not changed. Never throws.
   */
  repairEntities(states: readonly unknown[], version: VersionVector, options: ApplyChangesOptions = {}): ApplyChangesResult {
    if (version.maxSeen(this.nodeId) >= this.nextSeq) {
      const reason = `the version claims operations of ${this.nodeId} that it never made`;
      return { applied: 0, ignored: 0, rejected: [{ change: version.toJSON(), reason }], conflicts: [], complete: false };
    }
    const rejected: RejectedChange[] = [];
    const touched = newTouched();
    const counts = { applied: 0, ignored: 0 };
    const limitMs = this.#clock.wallClock() + this.#clock.maxDriftMs;
    for (const raw of states) {
      const state = decodeEntityState(raw);
      if (isDecodeError(state)) {
        rejected.push({ change: raw, reason: state.error });
        continue;
      }
      const changes = stateToChanges(state);
      const problem =
        this.#state.conceptProblem(state.entityType) ??
        changes.map((change) => this.#state.changeProblem(change, undefined, limitMs) ?? this.#authorProblem(change)).find(Boolean);
      if (problem) rejected.push({ change: raw, reason: problem });
      else this.#state.repairState(state, version, touched, counts, options.evidence);
    }
    const conflicts = this.#state.settle(touched);
    this.#notifier.emit('remote', touched);
    return { applied: counts.applied, ignored: counts.ignored, rejected, conflicts, complete: rejected.length === 0 };
  }

  #recordsInBuckets(buckets: readonly number[]): EntityRecord[] {
    const wanted = new Uint8Array(DIGEST_BUCKETS);
    for (const bucket of buckets) if (Number.isInteger(bucket) && bucket >= 0 && bucket < DIGEST_BUCKETS) wanted[bucket] = 1;
    const records: EntityRecord[] = [];
    for (const record of this.#state.records.values()) if (wanted[bucketOf(record.oid)] && !record.isEmpty()) records.push(record);
    return records.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  }

  // ---------------------------------------------------------------- internals

  // The first refusal among the change's distinct authors (a register or relation may hold several).
  #authorProblem(change: ModelChange): string | undefined {
    const dots =
      change.kind === 'attribute'
        ? change.writes.map((write) => write.dot)
        : change.kind === 'child-add'
          ? [change.dot]
          : [...change.items.flatMap(([, d]) => d), ...(change.removals ?? [])];
    const asked: NodeId[] = [];
    for (const { node } of dots) {
      // Few authors per change: a list beats a set.
      if (asked.includes(node)) continue;
      asked.push(node);
      const problem = this.#authorizationProblem(change.entityType, change.oid, node);
      if (problem) return problem;
    }
    return undefined;
  }

  // Merges another replica's version into this one; true if that added anything.
  #adopt(version: VersionVector): boolean {
    if (this.#state.version.includes(version)) return false;
    this.#state.version.mergeWith(version);
    return true;
  }
}
