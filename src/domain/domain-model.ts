import { nanoid } from 'nanoid';
import { HybridLogicalClock, type NodeId, type VersionVector, isNodeId } from '../crdt/index.js';
import { ValidationError, isOid } from './attribute-rules.js';
import { MODEL_ID_PATTERN } from './change-decoder.js';
import { conflictPicks } from './conflict-picks.js';
import { conceptNamed, existingRecord, liveRecord, relationTarget } from './edit-lookups.js';
import { CRDTEntity } from './crdt-entity.js';
import type { AttributeValues, CreateOptions, DomainModelOptions } from './domain-model-options.js';
import { DELETED, type DomainSchema, type SchemaDeclaration, defineSchema } from './domain-schema.js';
import { Entities } from './entities.js';
import { EntityRecord } from './entity-record.js';
import type {
  ApplyChangesResult,
  AttributeChange,
  AttributeValue,
  ChangeBatch,
  Conflict,
  ConflictResolution,
  EntityState,
  LocalUndo,
  ModelChange,
  ModelChangedDetail,
  ModelSnapshot,
} from './model-change.js';
import { ModelNotifier } from './model-notifier.js';
import { ModelReplica } from './model-replica.js';
import { type ValidationIssue, checkLocalValues, validateModel } from './model-rules.js';
import { ReplicaState, type Touched, changesOf, newTouched } from './replica-state.js';
import type { ModelDigest } from './state-digest.js';
import type { ApplyChangesOptions, SynchronizableDomainModel } from './synchronizable-domain-model.js';

/**
 * The generic replicated domain model: declared concepts, `CRDTEntity`s, one version vector, and
 * the `SynchronizableDomainModel` contract. It is the edit API apps use (queries, local edits,
 * conflict resolution, events); local edits are validated against the declaration and throw
 * `ValidationError` without changing anything. The replication API (deltas, snapshots, stored
 * state, digests, repairs) is its `ModelReplica`, which validates remote input at the boundary
 * (a rejected change never alters state); the methods below that only pass a call on to it keep
 * one model object for the sync engine, storage and views. See docs/architecture.md.
 */
export class DomainModel implements SynchronizableDomainModel {
  readonly modelId: string;
  readonly schema: DomainSchema;
  readonly nodeId: NodeId;
  /** The hybrid logical clock stamping this replica's writes. */
  readonly clock: HybridLogicalClock;
  readonly #state: ReplicaState;
  readonly #newId: () => string;
  readonly #notifier: ModelNotifier;
  readonly #replica: ModelReplica;

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
    this.#notifier = new ModelNotifier(this.modelId, this.nodeId, options.onListenerError);
    this.#replica = new ModelReplica({
      modelId: this.modelId,
      nodeId: this.nodeId,
      clock: this.clock,
      state: this.#state,
      notifier: this.#notifier,
      // Late bound: subclasses override the rules.
      authorizationProblem: (concept, oid, author) => this.authorizationProblem(concept, oid, author),
      authorizationRule: (concept) => this.authorizationRule(concept),
    });
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
    conceptNamed(this.schema, concept);
    const found: CRDTEntity[] = [];
    for (const record of this.#state.conceptRecords(concept)!.values())
      if ((options.includeDeleted || !record.deleted) && !record.isEmpty()) found.push(this.#handle(record));
    return new Entities(found);
  }

  /**
   * Live entities of `concept` (deleted ones too with `includeDeleted`) whose `attribute` shows
   * `value`; unique attributes and references are looked up, not scanned (a deleted entity keeps
   * its values, so the index holds it too).
   */
  findBy(concept: string, attribute: string, value: AttributeValue, options: { includeDeleted?: boolean } = {}): Entities {
    const schema = conceptNamed(this.schema, concept).attributes.get(attribute);
    if (!schema) throw new ValidationError(concept, attribute, 'unknown', 'no such attribute');
    const candidates = schema.indexed ? this.#state.index.lookup(schema, value) : this.#state.conceptRecords(concept)!.values();
    const found: CRDTEntity[] = [];
    for (const record of candidates)
      if ((options.includeDeleted || !record.deleted) && !record.isEmpty() && record.value(attribute) === value) found.push(this.#handle(record));
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
    const record = existingRecord(this.#state, oid);
    if (record.deleted) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.write(record, DELETED, true, false, touched), { kind: 'restore', oid });
    return true;
  }

  /** Restores a deleted entity. False if it was not deleted. */
  restore(oid: string): boolean {
    const record = existingRecord(this.#state, oid);
    if (!record.deleted) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.write(record, DELETED, false, false, touched), { kind: 'delete', oid });
    return true;
  }

  /** Adds a live entity of the relation's concept to a relation. False if it was already there. */
  addChild(oid: string, relation: string, child: string): boolean {
    const record = liveRecord(this.#state, oid);
    const target = relationTarget(record.concept, relation);
    if (!this.#state.isLive(child, target))
      throw new ValidationError(record.concept.name, relation, 'reference', `${JSON.stringify(child)} is not a live ${target}`);
    if (record.relations.get(relation)?.has(child)) return false;
    this.#authorize(record.concept.name, oid);
    this.#local((touched) => this.#state.addChild(record, relation, child, touched), { kind: 'remove-child', oid, relation, child });
    return true;
  }

  /** Removes a child from a relation (the child entity itself stays). False if it was not there. */
  removeChild(oid: string, relation: string, child: string): boolean {
    const record = liveRecord(this.#state, oid);
    relationTarget(record.concept, relation);
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
    const schema = conceptNamed(this.schema, concept);
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
    const record = liveRecord(this.#state, oid);
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
    this.#notifier.emit('local', touched, { undo });
    return touched;
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
    const picks = conflictPicks(this.#state, this.schema.maxStringLength, conflictingChanges, choose, (concept, oid) => this.#authorize(concept, oid));
    if (!picks.length) return { resolved: [], changes: [] };
    const touched = this.#local((t) => {
      for (const [record, attribute, value] of picks) this.#state.write(record, attribute, value, true, t);
    });
    return { resolved: picks.map(([record, attribute, value]) => ({ oid: record.oid, attribute, value })), changes: changesOf(touched) };
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
    return this.#notifier.onVersionAdopted(listener);
  }

  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void {
    return this.#notifier.onChange(listener);
  }

  // ---------------------------------------------------------------- replication

  // Each passes the call on to the `ModelReplica`, where it is documented (and in
  // `SynchronizableDomainModel`): one model object serves the sync engine, storage and views.

  get version(): VersionVector {
    return this.#replica.version;
  }

  get nextSeq(): number {
    return this.#replica.nextSeq;
  }

  markOwnSequenceUsedUpTo(seq: number): void {
    this.#replica.markOwnSequenceUsedUpTo(seq);
  }

  skipOwnSequencesUpTo(seq: number): void {
    this.#replica.skipOwnSequencesUpTo(seq);
  }

  getChangesSince(since: VersionVector): ModelChange[] {
    return this.#replica.getChangesSince(since);
  }

  getDelta(since: VersionVector): ChangeBatch {
    return this.#replica.getDelta(since);
  }

  applyChanges(input: ChangeBatch | readonly ModelChange[], options: ApplyChangesOptions = {}): ApplyChangesResult {
    return this.#replica.applyChanges(input, options);
  }

  getSnapshot(): ModelSnapshot {
    return this.#replica.getSnapshot();
  }

  initializeFromSnapshot(snapshot: ModelSnapshot, options: ApplyChangesOptions = {}): boolean {
    return this.#replica.initializeFromSnapshot(snapshot, options);
  }

  getEntityStates(oids?: Iterable<string>): EntityState[] {
    return this.#replica.getEntityStates(oids);
  }

  loadState(entities: readonly EntityState[], version: VersionVector): ApplyChangesResult {
    return this.#replica.loadState(entities, version);
  }

  mergeEntity(state: EntityState, context: VersionVector): boolean {
    return this.#replica.mergeEntity(state, context);
  }

  digest(): ModelDigest {
    return this.#replica.digest();
  }

  refreshDigest(maxEntities: number): boolean {
    return this.#replica.refreshDigest(maxEntities);
  }

  digestBuckets(): string[] {
    return this.#replica.digestBuckets();
  }

  entityDigestsInBuckets(buckets: readonly number[]): Array<readonly [oid: string, hash: string]> {
    return this.#replica.entityDigestsInBuckets(buckets);
  }

  entityStatesInBuckets(buckets: readonly number[]): EntityState[] {
    return this.#replica.entityStatesInBuckets(buckets);
  }

  repairEntities(states: readonly unknown[], version: VersionVector, options?: ApplyChangesOptions): ApplyChangesResult {
    return this.#replica.repairEntities(states, version, options);
  }

  // ---------------------------------------------------------------- internals

  // Local operations are refused before anything is written: peers would refuse the writes anyway.
  #authorize(concept: string, oid: string): void {
    const problem = this.authorizationProblem(concept, oid, this.nodeId);
    if (problem) throw new ValidationError(concept, undefined, this.authorizationRule(concept), problem);
  }

  #handle(record: EntityRecord): CRDTEntity {
    return (record.handle ??= new CRDTEntity(this, record));
  }
}
