import { nanoid } from 'nanoid';
import { Listeners } from '../util/listeners.js';
import { type CausalContext, DIGEST_BUCKETS, HybridLogicalClock, type NodeId, VersionVector, bucketOf, isNodeId } from '../crdt/index.js';
import { ValidationError, isOid, ruleViolation, typeProblem } from './attribute-rules.js';
import { AdoptionGuard } from './adoption-guard.js';
import { MODEL_ID_PATTERN, batchEnvelopeProblem, decodeChange, decodeEntityState, decodeSnapshot, decodedVersions, isDecodeError } from './change-decoder.js';
import { CRDTEntity } from './crdt-entity.js';
import { type ConceptSchema, DELETED, type DomainSchema, type SchemaDeclaration, defineSchema } from './domain-schema.js';
import { Entities } from './entities.js';
import { EntityRecord, stateToChanges } from './entity-record.js';
import {
  type ApplyChangesResult,
  type AttributeChange,
  type AttributeValue,
  CHANGE_FORMAT,
  type ChangeBatch,
  type Conflict,
  type ConflictResolution,
  type EntityState,
  type LocalUndo,
  type ModelChange,
  type ModelChangedDetail,
  type ModelSnapshot,
  type RejectedChange,
} from './model-change.js';
import { type ValidationIssue, checkLocalValues, validateModel } from './model-rules.js';
import { type RemovalEvidence, evidencedContext } from './removal-evidence.js';
import { ReplicaState, type Touched, changesOf, newTouched } from './replica-state.js';
import type { ModelDigest } from './state-digest.js';
import type { ApplyChangesOptions, SynchronizableDomainModel } from './synchronizable-domain-model.js';

/** How to make a `DomainModel`. */
export interface DomainModelOptions {
  /** Which model this is; changes and snapshots of other models are refused. */
  readonly modelId: string;
  readonly schema: DomainSchema | SchemaDeclaration;
  /** This replica's node id: it signs every dot this model writes. */
  readonly nodeId: string;
  /** Wall clock (ms) for the hybrid logical clock. Default `Date.now`. */
  readonly getNow?: () => number;
  /** New entity ids. Default nanoid (21 URL-safe characters). */
  readonly newId?: () => string;
  /** Remote timestamps further ahead of the wall clock are refused. Default 5 minutes. */
  readonly maxDriftMs?: number;
  /**
   * The next own seq to use. Storage passes the end of what it reserved before a reload, so a
   * seq is never used twice. Default: one past the highest own seq in the version.
   */
  readonly firstSeq?: number;
  /** Cap on entities held; changes creating more are refused. Default 1,000,000. */
  readonly maxEntities?: number;
  /** Gets errors thrown by `onChange` listeners. Default: rethrown asynchronously, so they surface. */
  readonly onListenerError?: (error: unknown) => void;
}

/** Options of `create`. */
export interface CreateOptions {
  /** Use this oid instead of a generated one (it must be unused). */
  readonly oid?: string;
}

/** Attribute values of a `create` or `update`; undefined means "not given". */
export type AttributeValues = Readonly<Record<string, AttributeValue | undefined>>;

/**
 * The generic replicated domain model: declared concepts, `CRDTEntity`s, one version vector, and
 * the `SynchronizableDomainModel` contract. Local edits are validated against the declaration and
 * throw `ValidationError` without changing anything; remote changes are validated at the
 * boundary, and a rejected change never alters state. See docs/architecture.md.
 */
export class DomainModel implements SynchronizableDomainModel {
  readonly modelId: string;
  readonly schema: DomainSchema;
  readonly nodeId: NodeId;
  /** The hybrid logical clock stamping this replica's writes. */
  readonly clock: HybridLogicalClock;
  readonly #state: ReplicaState;
  readonly #newId: () => string;
  // A failing listener must break neither the model nor the other listeners: what it throws goes
  // to `onListenerError`.
  readonly #listeners: Listeners<[ModelChangedDetail]>;
  readonly #versionListeners: Listeners<[]>;
  readonly #adoption = new AdoptionGuard();

  constructor(options: DomainModelOptions) {
    if (!MODEL_ID_PATTERN.test(options.modelId)) throw new Error(`model id ${JSON.stringify(options.modelId)} is malformed`);
    if (!isNodeId(options.nodeId)) throw new Error(`node id ${JSON.stringify(options.nodeId)} is malformed`);
    const firstSeq = options.firstSeq ?? 1;
    if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) throw new Error('firstSeq must be a positive integer');
    this.modelId = options.modelId;
    this.nodeId = options.nodeId;
    this.schema = options.schema.concepts instanceof Map ? (options.schema as DomainSchema) : defineSchema(options.schema as SchemaDeclaration);
    this.clock = new HybridLogicalClock({ getNow: options.getNow, maxDriftMs: options.maxDriftMs });
    this.#state = new ReplicaState(this.schema, this.nodeId, this.clock, firstSeq, options.maxEntities ?? 1_000_000);
    this.#newId = options.newId ?? nanoid;
    const onListenerError = options.onListenerError ?? rethrowLater;
    const report = { warn: (_message: string, error?: unknown) => onListenerError(error) };
    this.#listeners = new Listeners(report, 'change');
    this.#versionListeners = new Listeners(report, 'version');
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

  // ---------------------------------------------------------------- queries

  /** The live entity with this oid (deleted ones only with `includeDeleted`). */
  get(oid: string, options: { includeDeleted?: boolean } = {}): CRDTEntity | undefined {
    const record = this.#state.records.get(oid);
    if (!record || (record.deleted && !options.includeDeleted) || record.isEmpty()) return undefined;
    return this.#handle(record);
  }

  /** The live entities of a concept (deleted ones too with `includeDeleted`), in the order this replica learned of them. */
  entities(concept: string, options: { includeDeleted?: boolean } = {}): Entities {
    this.#concept(concept);
    const found: CRDTEntity[] = [];
    for (const record of this.#state.conceptRecords(concept)!.values())
      if ((options.includeDeleted || !record.deleted) && !record.isEmpty()) found.push(this.#handle(record));
    return new Entities(found);
  }

  /** Live entities of `concept` whose `attribute` shows `value`; unique attributes and references are looked up, not scanned. */
  findBy(concept: string, attribute: string, value: AttributeValue): Entities {
    const schema = this.#concept(concept).attributes.get(attribute);
    if (!schema) throw new ValidationError(concept, attribute, 'unknown', 'no such attribute');
    const candidates = schema.indexed ? this.#state.index.lookup(schema, value) : this.#state.conceptRecords(concept)!.values();
    const found: CRDTEntity[] = [];
    for (const record of candidates) if (!record.deleted && record.value(attribute) === value) found.push(this.#handle(record));
    return new Entities(found);
  }

  /** Every current conflict (see `EntityRecord.conflicts` for what counts), by oid then attribute. */
  get conflicts(): Conflict[] {
    return [...this.#state.conflicted()]
      .sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0))
      .flatMap((record) => record.conflicts().sort((a, b) => (a.attribute < b.attribute ? -1 : a.attribute > b.attribute ? 1 : 0)));
  }

  /** Domain rules the merged state breaks (see `validateModel`). */
  validate(): ValidationIssue[] {
    return validateModel(this.#state);
  }

  // ---------------------------------------------------------------- local operations

  /** Creates an entity: defaults filled in, every rule checked, one dot per attribute written. */
  create(concept: string, values: AttributeValues = {}, options: CreateOptions = {}): CRDTEntity {
    return this.#create(concept, values, options, false);
  }

  /**
   * Why `author` may not write entity `oid` of `concept` (any attribute, relation or removal), or
   * undefined if it may. Checked for every remote change, once per distinct author of its dots
   * (which the sync layer has verified), and before every local operation with this replica's
   * node id. Rules must depend only on these three arguments, never on mutable state: then every
   * replica decides alike, whatever order changes arrive in. Default: everyone may write.
   */
  protected authorizationProblem(_concept: string, _oid: string, _author: NodeId): string | undefined {
    return undefined;
  }

  /**
   * Why this replica may not write entity `oid` of `concept` (`authorizationProblem` with its own
   * node id), or undefined if it may: views offer only what the model and every peer would accept.
   */
  localWriteProblem(concept: string, oid: string): string | undefined {
    return this.authorizationProblem(concept, oid, this.nodeId);
  }

  /** The oid of an entity `create` makes without one given. Default: the `newId` option. */
  protected newOid(_concept: string): string {
    return this.#newId();
  }

  /** The `ValidationError` rule local operations throw when `authorizationProblem` refuses them. */
  protected authorizationRule(_concept: string): string {
    return 'owner';
  }

  /** Writes attributes of a live entity; all are validated before any is written. */
  update(oid: string, values: AttributeValues): void {
    this.#update(oid, values, false);
  }

  /**
   * Deletes an entity: a write of its `$deleted` register. It vanishes from queries; its state
   * stays, so edits made concurrently elsewhere are kept and reported as conflicts, and `restore`
   * brings everything back. Children are not deleted with it. False if already deleted.
   */
  delete(oid: string): boolean {
    const record = this.#existing(oid);
    if (record.deleted) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.write(record, DELETED, true, false, touched), { kind: 'restore', oid });
    return true;
  }

  /** Restores a deleted entity. False if it was not deleted. */
  restore(oid: string): boolean {
    const record = this.#existing(oid);
    if (!record.deleted) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.write(record, DELETED, false, false, touched), { kind: 'delete', oid });
    return true;
  }

  /** Adds a live entity of the relation's concept to a relation. False if it was already there. */
  addChild(oid: string, relation: string, child: string): boolean {
    const record = this.#live(oid);
    const target = this.#relationTarget(record.concept, relation);
    if (!this.#state.isLive(child, target))
      throw new ValidationError(record.concept.name, relation, 'reference', `${JSON.stringify(child)} is not a live ${target}`);
    if (record.relations.get(relation)?.has(child)) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.addChild(record, relation, child, touched), { kind: 'remove-child', oid, relation, child });
    return true;
  }

  /** Removes a child from a relation (the child entity itself stays). False if it was not there. */
  removeChild(oid: string, relation: string, child: string): boolean {
    const record = this.#live(oid);
    this.#relationTarget(record.concept, relation);
    if (!record.relations.get(relation)?.has(child)) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.removeChild(record, relation, child, touched), { kind: 'add-child', oid, relation, child });
    return true;
  }

  /** `create` for subclasses that also set managed attributes (stamps the model computes). */
  protected createManaged(concept: string, values: AttributeValues, options: CreateOptions = {}): CRDTEntity {
    return this.#create(concept, values, options, true);
  }

  /** `update` for subclasses that also set managed attributes. */
  protected updateManaged(oid: string, values: AttributeValues): void {
    this.#update(oid, values, true);
  }

  #create(concept: string, values: AttributeValues, options: CreateOptions, managed: boolean): CRDTEntity {
    const schema = this.#concept(concept);
    const oid = options.oid ?? this.newOid(concept);
    if (!isOid(oid)) throw new ValidationError(concept, undefined, 'type', `${JSON.stringify(oid)} is not a valid entity id`);
    if (this.#state.records.has(oid)) throw new ValidationError(concept, undefined, 'exists', `an entity ${oid} exists already`);
    this.#authorize(concept, oid);
    if (this.#state.records.size >= this.#state.maxEntities)
      throw new ValidationError(concept, undefined, 'max', `the model holds ${this.#state.maxEntities} entities`);
    const record = new EntityRecord(oid, schema);
    const writes = new Map(checkLocalValues(this.#state, record, values, managed));
    for (const attribute of schema.attributes.values()) {
      if (!writes.has(attribute) && attribute.default !== undefined) writes.set(attribute, attribute.default);
      if (attribute.required && (writes.get(attribute) ?? null) === null)
        throw new ValidationError(concept, attribute.name, 'required', 'a value is required');
    }
    this.#local((touched) => {
      this.#state.addRecord(record);
      let written = false;
      for (const [attribute, value] of writes) {
        if (value === null) continue;
        this.#state.write(record, attribute.name, value, false, touched);
        written = true;
      }
      // An entity with no values still needs state, or no other replica would ever hear of it.
      if (!written) this.#state.write(record, DELETED, false, false, touched);
    }, managed ? undefined : { kind: 'delete', oid, created: true });
    return this.#handle(record);
  }

  #update(oid: string, values: AttributeValues, managed: boolean): void {
    const record = this.#live(oid);
    this.#authorize(record.concept.name, oid);
    const writes = checkLocalValues(this.#state, record, values, managed).filter(([attribute, value]) => record.value(attribute.name) !== value);
    if (!writes.length) return;
    const before = Object.fromEntries(writes.map(([attribute]) => [attribute.name, record.value(attribute.name) ?? null]));
    this.#local((touched) => {
      for (const [attribute, value] of writes) this.#state.write(record, attribute.name, value, false, touched);
    }, managed ? undefined : { kind: 'update', oid, values: before });
  }

  // Runs one local operation and reports what it changed (and, for ordinary ones, how to take it back).
  #local(operation: (touched: Touched) => void, undo?: LocalUndo): Touched {
    const touched = newTouched();
    operation(touched);
    this.#state.settle(touched);
    this.#emit('local', touched, { undo });
    return touched;
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
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
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
    this.#emit('remote', touched, { adopted });
    return { applied, ignored, rejected, conflicts, complete };
  }

  // The context `change` may drop held state with: the sender's, or where drops need signed
  // evidence, only what the change's own items prove (see `evidencedContext`).
  #dropContext(change: ModelChange, context: VersionVector | undefined, evidence: RemovalEvidence | undefined): CausalContext | undefined {
    if (!context || !evidence) return context;
    const held = () => (change.kind === 'attribute' ? (this.#state.records.get(change.oid)?.registers.get(change.attribute)?.writes ?? []) : []);
    return evidencedContext(change, context, evidence, held);
  }

  /**
   * Settles conflicts on the registers named by `conflictingChanges` (attribute changes; others
   * are ignored). `choose` gets each register's current state and picks the value (default: the
   * shown winner); the pick is validated like any local edit (throws before anything is written)
   * and becomes one new write replacing every concurrent write. On a deleted entity, resolve
   * `$deleted`: true keeps it deleted (the concurrent edits stay inside, no longer conflicts),
   * false restores it.
   */
  resolveConflicts(conflictingChanges: readonly ModelChange[], choose?: (change: AttributeChange) => AttributeValue): ConflictResolution {
    const picks: Array<[EntityRecord, string, AttributeValue]> = [];
    const seen = new Set<string>();
    for (const change of conflictingChanges) {
      if (change.kind !== 'attribute') continue;
      const record = this.#state.records.get(change.oid);
      const register = record?.registers.get(change.attribute);
      const key = `${change.oid}\u0000${change.attribute}`;
      if (!record || !register || seen.has(key)) continue;
      seen.add(key);
      const inConflict = change.attribute === DELETED ? record.deleted && record.hasConflicts() : !record.deleted && register.hasConflicts;
      if (!inConflict) continue;
      this.#authorize(record.concept.name, record.oid);
      const current: AttributeChange = { kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute: change.attribute, writes: register.writes };
      const value = choose ? choose(current) : register.value!;
      const schema = change.attribute === DELETED ? this.#state.deletedSchema(record.concept.name) : record.concept.attributes.get(change.attribute)!;
      const problem = typeProblem(schema, value, this.schema.maxStringLength);
      if (problem) throw new ValidationError(record.concept.name, change.attribute, 'type', problem);
      const violation = ruleViolation(schema, value);
      if (violation) throw new ValidationError(record.concept.name, change.attribute, violation.rule, violation.detail);
      picks.push([record, change.attribute, value]);
    }
    if (!picks.length) return { resolved: [], changes: [] };
    const touched = this.#local((t) => {
      for (const [record, attribute, value] of picks) this.#state.write(record, attribute, value, true, t);
    });
    return { resolved: picks.map(([record, attribute, value]) => ({ oid: record.oid, attribute, value })), changes: changesOf(touched) };
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
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
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
    this.#emit('remote', touched, { adopted });
    return true;
  }

  /**
   * An empty model like this one (schema, rules, node, sequence position, clock), to try remote
   * state on before taking it: it accepts exactly what this one would. Subclasses with rules of
   * their own (`authorizationProblem`) return their own class.
   */
  emptyCopy(): DomainModel {
    return new DomainModel({ ...this.copyOptions(), schema: this.schema });
  }

  /** What `emptyCopy` passes on: the same model, node, next seq and clock. */
  protected copyOptions(): Pick<DomainModelOptions, 'modelId' | 'nodeId' | 'firstSeq' | 'getNow' | 'maxDriftMs'> {
    return { modelId: this.modelId, nodeId: this.nodeId, firstSeq: this.nextSeq, getNow: () => this.clock.wallClock(), maxDriftMs: this.clock.maxDriftMs };
  }

  /**
   * Subscribes to the version growing while no entity changed: a replica's version adopted with
   * nothing new in its state (the state arrived earlier, or was superseded here already). Storage
   * must keep the larger version too. Returns the unsubscribe function.
   */
  onVersionAdopted(listener: () => void): () => void {
    return this.#versionListeners.add(listener);
  }

  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void {
    return this.#listeners.add(listener);
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
   * entities skipped (then the version is not adopted). Emits a `remote` change.
   */
  loadState(entities: readonly EntityState[], version: VersionVector): ApplyChangesResult {
    const rejected: RejectedChange[] = [];
    const touched = newTouched();
    const counts = { applied: 0, ignored: 0 };
    for (const raw of entities) {
      const state = decodeEntityState(raw);
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
    this.#emit('remote', touched, { adopted });
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
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
    const problem =
      this.#state.conceptProblem(decoded.entityType) ?? changes.map((change) => this.#state.changeProblem(change, context, limitMs)).find(Boolean);
    if (problem) throw new ValidationError(decoded.entityType, undefined, 'type', problem);
    const refused = changes.map((change) => this.#authorProblem(change)).find(Boolean);
    if (refused) throw new ValidationError(decoded.entityType, undefined, this.authorizationRule(decoded.entityType), refused);
    const touched = newTouched();
    for (const change of changes) this.#state.ingest(change, context, touched);
    this.#state.settle(touched);
    this.#emit('remote', touched);
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
   * marks (so a repair drops nothing a delta with that version could not). This replica's
   * version is not changed. Never throws.
   */
  repairEntities(states: readonly unknown[], version: VersionVector): ApplyChangesResult {
    if (version.maxSeen(this.nodeId) >= this.nextSeq) {
      const reason = `the version claims operations of ${this.nodeId} that it never made`;
      return { applied: 0, ignored: 0, rejected: [{ change: version.toJSON(), reason }], conflicts: [], complete: false };
    }
    const rejected: RejectedChange[] = [];
    const touched = newTouched();
    const counts = { applied: 0, ignored: 0 };
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
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
      else this.#state.repairState(state, version, touched, counts);
    }
    const conflicts = this.#state.settle(touched);
    this.#emit('remote', touched);
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

  // Local operations are refused before anything is written: peers would refuse the writes anyway.
  #authorize(concept: string, oid: string): void {
    const problem = this.authorizationProblem(concept, oid, this.nodeId);
    if (problem) throw new ValidationError(concept, undefined, this.authorizationRule(concept), problem);
  }

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
      const problem = this.authorizationProblem(change.entityType, change.oid, node);
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

  // `adopted` (remote only): the version grew by adopting another's. Without a change of state that
  // is told to `onVersionAdopted` listeners, which store it (no `onChange` event: nothing visible
  // changed). `undo` (local only): how the user's operation is taken back.
  #emit(origin: 'local' | 'remote', touched: Touched, { adopted = false, undo }: { adopted?: boolean; undo?: LocalUndo } = {}): void {
    if (!this.#listeners.size && !this.#versionListeners.size) return;
    const changes = changesOf(touched);
    if (!changes.length) {
      if (adopted) this.#versionListeners.emit();
      return;
    }
    const detail: ModelChangedDetail =
      origin === 'local'
        ? { modelId: this.modelId, origin, changes, nodeId: this.nodeId, superseded: touched.superseded, ...(undo && { undo }) }
        : { modelId: this.modelId, origin, changes };
    this.#listeners.emit(detail);
  }

  #handle(record: EntityRecord): CRDTEntity {
    return (record.handle ??= new CRDTEntity(this, record));
  }

  #concept(name: string): ConceptSchema {
    const concept = this.schema.concepts.get(name);
    if (!concept) throw new ValidationError(name, undefined, 'unknown', 'no such concept');
    return concept;
  }

  #relationTarget(concept: ConceptSchema, name: string): string {
    const relation = concept.children.get(name);
    if (!relation) throw new ValidationError(concept.name, name, 'unknown', 'no such relation');
    return relation.target;
  }

  #existing(oid: string): EntityRecord {
    const record = this.#state.records.get(oid);
    if (!record || record.isEmpty()) throw new ValidationError(undefined, undefined, 'exists', `no entity ${JSON.stringify(oid)}`);
    return record;
  }

  #live(oid: string): EntityRecord {
    const record = this.#existing(oid);
    if (record.deleted) throw new ValidationError(record.concept.name, undefined, 'deleted', `entity ${oid} is deleted`);
    return record;
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
