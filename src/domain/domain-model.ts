import { nanoid } from 'nanoid';
import {
  AWSet,
  type CausalContext,
  type Dot,
  HybridLogicalClock,
  InvalidVersionVectorError,
  LWWRegister,
  type NodeId,
  VersionVector,
  isNodeId,
} from '../crdt/index.js';
import { AttributeIndex } from './attribute-index.js';
import { ValidationError, isOid, ruleViolation, typeProblem } from './attribute-rules.js';
import { decodeChange, decodeEntityState, decodeSnapshot, isDecodeError, wasDecoded, MODEL_ID_PATTERN } from './change-decoder.js';
import { CRDTEntity } from './crdt-entity.js';
import {
  type AttributeSchema,
  type ConceptSchema,
  DELETED,
  type DomainSchema,
  type SchemaDeclaration,
  defineSchema,
  deletedAttribute,
} from './domain-schema.js';
import { Entities } from './entities.js';
import { EntityRecord, stateToChanges } from './entity-record.js';
import {
  type ApplyChangesResult,
  type AttributeChange,
  type AttributeValue,
  type AttributeWrite,
  CHANGE_FORMAT,
  type ChangeBatch,
  type ChildAddChange,
  type Conflict,
  type ConflictResolution,
  type EntityState,
  type ModelChange,
  type ModelChangedDetail,
  type ModelSnapshot,
  type RejectedChange,
} from './model-change.js';
import type { SynchronizableDomainModel } from './synchronizable-domain-model.js';
import { TouchKind, TouchLog } from './touch-log.js';

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

/** A domain rule broken in the merged state (merges never reject on domain rules; this reports them). */
export interface ValidationIssue {
  readonly concept: string;
  readonly oid: string;
  readonly attribute: string | undefined;
  readonly rule: string;
  readonly detail: string;
}

/** Options of `create`. */
export interface CreateOptions {
  /** Use this oid instead of a generated one (it must be unused). */
  readonly oid?: string;
}

// What one local operation or one merge touched, for events, conflicts and results.
interface Touched {
  readonly registers: Map<LWWRegister<AttributeValue>, readonly [EntityRecord, string]>;
  readonly relations: Map<AWSet<string>, readonly [EntityRecord, string]>;
  readonly adds: ChildAddChange[];
  readonly records: Set<EntityRecord>;
}

const MAX_POISONED = 64;

/**
 * The generic replicated domain model: declared concepts, `CRDTEntity`s, one version vector, and
 * the `SynchronizableDomainModel` contract. Local edits are validated against the declaration and
 * throw `ValidationError` without changing anything; remote changes are validated at the
 * boundary and a rejected change never alters state. See docs/architecture.md.
 */
export class DomainModel implements SynchronizableDomainModel {
  readonly modelId: string;
  readonly schema: DomainSchema;
  readonly nodeId: NodeId;
  /** The hybrid logical clock stamping this replica's writes. */
  readonly clock: HybridLogicalClock;
  readonly #newId: () => string;
  readonly #maxEntities: number;
  readonly #onListenerError: (error: unknown) => void;
  readonly #version = new VersionVector();
  #nextSeq: number;
  readonly #records = new Map<string, EntityRecord>();
  readonly #byConcept = new Map<string, Map<string, EntityRecord>>();
  readonly #deletedSchemas = new Map<string, AttributeSchema>();
  readonly #log = new TouchLog();
  readonly #index = new AttributeIndex();
  readonly #conflicted = new Set<EntityRecord>();
  readonly #listeners = new Set<(detail: ModelChangedDetail) => void>();
  // Keys of batches whose earlier parts had rejected changes: their last part must not be adopted.
  readonly #poisoned: string[] = [];

  constructor(options: DomainModelOptions) {
    if (!MODEL_ID_PATTERN.test(options.modelId)) throw new Error(`model id ${JSON.stringify(options.modelId)} is malformed`);
    if (!isNodeId(options.nodeId)) throw new Error(`node id ${JSON.stringify(options.nodeId)} is malformed`);
    this.modelId = options.modelId;
    this.nodeId = options.nodeId;
    this.schema = options.schema.concepts instanceof Map ? (options.schema as DomainSchema) : defineSchema(options.schema as SchemaDeclaration);
    this.clock = new HybridLogicalClock({ getNow: options.getNow, maxDriftMs: options.maxDriftMs });
    this.#newId = options.newId ?? nanoid;
    this.#maxEntities = options.maxEntities ?? 1_000_000;
    this.#onListenerError = options.onListenerError ?? rethrowLater;
    const firstSeq = options.firstSeq ?? 1;
    if (!Number.isSafeInteger(firstSeq) || firstSeq < 1) throw new Error('firstSeq must be a positive integer');
    this.#nextSeq = firstSeq;
    for (const name of this.schema.concepts.keys()) {
      this.#byConcept.set(name, new Map());
      this.#deletedSchemas.set(name, deletedAttribute(name));
    }
  }

  // ---------------------------------------------------------------- version and sequence numbers

  /** What this replica has seen. A copy: mutating it changes nothing. */
  get version(): VersionVector {
    return this.#version.clone();
  }

  /** The seq the next own operation will use at the earliest. */
  get nextSeq(): number {
    return Math.max(this.#nextSeq, this.#version.maxSeen(this.nodeId) + 1);
  }

  /**
   * Marks own seqs 1..`seq` as used and seen, so they are never used again. Storage calls it after
   * a reload with the end of what it had reserved: seqs reserved but never written leave no gap.
   */
  markOwnSequenceUsedUpTo(seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError('seq must be a non-negative integer');
    this.#version.update(this.nodeId, seq);
    this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
  }

  // ---------------------------------------------------------------- queries

  /** The live entity with this oid (deleted ones only with `includeDeleted`). */
  get(oid: string, options: { includeDeleted?: boolean } = {}): CRDTEntity | undefined {
    const record = this.#records.get(oid);
    if (!record || (record.deleted && !options.includeDeleted) || record.isEmpty()) return undefined;
    return this.#handle(record);
  }

  /** The live entities of a concept (deleted ones too with `includeDeleted`). */
  entities(concept: string, options: { includeDeleted?: boolean } = {}): Entities {
    const records = this.#conceptRecords(concept);
    const found: CRDTEntity[] = [];
    for (const record of records.values()) if (options.includeDeleted || !record.deleted) found.push(this.#handle(record));
    return new Entities(found);
  }

  /** Live entities of `concept` whose `attribute` shows `value`; indexed attributes are looked up, not scanned. */
  findBy(concept: string, attribute: string, value: AttributeValue): Entities {
    const schema = this.#attribute(this.#concept(concept), attribute);
    const candidates = schema.indexed ? this.#index.lookup(schema, value) : this.#conceptRecords(concept).values();
    const found: CRDTEntity[] = [];
    for (const record of candidates) if (!record.deleted && record.value(attribute) === value) found.push(this.#handle(record));
    return new Entities(found);
  }

  /** Every current conflict (see `EntityRecord.conflicts` for what counts). */
  get conflicts(): Conflict[] {
    return [...this.#conflicted].flatMap((record) => record.conflicts());
  }

  /**
   * Domain rules the merged state breaks: required values missing, min/max/pattern, duplicate
   * unique values and references to missing or deleted entities. Scans the live entities.
   */
  validate(): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    for (const record of this.#records.values()) {
      if (record.deleted || record.isEmpty()) continue;
      const { name: concept } = record.concept;
      for (const attribute of record.concept.attributes.values()) {
        const value = record.value(attribute.name) ?? null;
        const violation = ruleViolation(attribute, value);
        const issue = (rule: string, detail: string) => issues.push({ concept, oid: record.oid, attribute: attribute.name, rule, detail });
        if (violation) issue(violation.rule, violation.detail);
        if (value === null) continue;
        if (attribute.unique && [...this.#index.lookup(attribute, value)].some((other) => other !== record && !other.deleted))
          issue('unique', `${JSON.stringify(value)} is also used by another ${concept}`);
        if (attribute.target && !this.#isLive(value, attribute.target))
          issue('reference', `${JSON.stringify(value)} is not a live ${attribute.target}`);
      }
    }
    return issues;
  }

  // ---------------------------------------------------------------- local operations

  /** Creates an entity: defaults filled in, every rule checked, one dot per attribute written. */
  create(concept: string, values: Readonly<Record<string, AttributeValue | undefined>> = {}, options: CreateOptions = {}): CRDTEntity {
    return this.#create(concept, values, options, false);
  }

  /** Writes attributes of a live entity; all are validated before any is written. */
  update(oid: string, values: Readonly<Record<string, AttributeValue | undefined>>): void {
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
    this.#local((touched) => this.#write(record, DELETED, true, false, touched));
    return true;
  }

  /** Restores a deleted entity. False if it was not deleted. */
  restore(oid: string): boolean {
    const record = this.#existing(oid);
    if (!record.deleted) return false;
    this.#local((touched) => this.#write(record, DELETED, false, false, touched));
    return true;
  }

  /** Adds a live entity of the relation's concept to a relation. False if it was already there. */
  addChild(oid: string, relation: string, child: string): boolean {
    const record = this.#live(oid);
    const schema = this.#relation(record.concept, relation);
    if (!this.#isLive(child, schema.target))
      throw new ValidationError(record.concept.name, relation, 'reference', `${JSON.stringify(child)} is not a live ${schema.target}`);
    const set = record.relation(relation);
    if (set.has(child)) return false;
    this.#local((touched) => {
      const dot = this.#nextDot();
      set.add(child, dot);
      this.#log.record(dot.node, dot.seq, record, relation, TouchKind.add, child);
      touched.adds.push({ kind: 'child-add', entityType: record.concept.name, oid, relation, child, dot });
    });
    return true;
  }

  /** Removes a child from a relation (the child entity itself stays). False if it was not there. */
  removeChild(oid: string, relation: string, child: string): boolean {
    const record = this.#live(oid);
    this.#relation(record.concept, relation);
    const set = record.relations.get(relation);
    if (!set?.has(child)) return false;
    this.#local((touched) => {
      const dot = this.#nextDot();
      set.remove(child);
      set.markRemoval(dot);
      this.#log.record(dot.node, dot.seq, record, relation, TouchKind.removal);
      touched.relations.set(set, [record, relation]);
    });
    return true;
  }

  /** `create` for subclasses that also set managed attributes (stamps the model computes). */
  protected createManaged(concept: string, values: Readonly<Record<string, AttributeValue | undefined>>, options: CreateOptions = {}): CRDTEntity {
    return this.#create(concept, values, options, true);
  }

  /** `update` for subclasses that also set managed attributes. */
  protected updateManaged(oid: string, values: Readonly<Record<string, AttributeValue | undefined>>): void {
    this.#update(oid, values, true);
  }

  #create(concept: string, values: Readonly<Record<string, AttributeValue | undefined>>, options: CreateOptions, managed: boolean): CRDTEntity {
    const schema = this.#concept(concept);
    const oid = options.oid ?? this.#newId();
    if (!isOid(oid)) throw new ValidationError(concept, undefined, 'type', `${JSON.stringify(oid)} is not a valid entity id`);
    if (this.#records.has(oid)) throw new ValidationError(concept, undefined, 'exists', `an entity ${oid} exists already`);
    if (this.#records.size >= this.#maxEntities) throw new ValidationError(concept, undefined, 'max', `the model holds ${this.#maxEntities} entities`);
    const record = new EntityRecord(oid, schema);
    const given = this.#checkValues(record, values, managed);
    const writes = new Map(given);
    for (const attribute of schema.attributes.values()) {
      if (!writes.has(attribute) && attribute.default !== undefined) writes.set(attribute, attribute.default);
      if (attribute.required && (writes.get(attribute) ?? null) === null)
        throw new ValidationError(concept, attribute.name, 'required', 'a value is required');
    }
    this.#local((touched) => {
      this.#addRecord(record);
      let written = false;
      for (const [attribute, value] of writes) {
        if (value === null) continue;
        this.#write(record, attribute.name, value, false, touched);
        written = true;
      }
      // An entity with no values still needs state, or no other replica would ever hear of it.
      if (!written) this.#write(record, DELETED, false, false, touched);
    });
    return this.#handle(record);
  }

  #update(oid: string, values: Readonly<Record<string, AttributeValue | undefined>>, managed: boolean): void {
    const record = this.#live(oid);
    const writes = this.#checkValues(record, values, managed).filter(([attribute, value]) => record.value(attribute.name) !== value);
    if (!writes.length) return;
    this.#local((touched) => {
      for (const [attribute, value] of writes) this.#write(record, attribute.name, value, false, touched);
    });
  }

  // Validates local values fully; throws before anything is written.
  #checkValues(
    record: EntityRecord,
    values: Readonly<Record<string, AttributeValue | undefined>>,
    managed: boolean,
  ): Array<[AttributeSchema, AttributeValue]> {
    const concept = record.concept;
    const checked: Array<[AttributeSchema, AttributeValue]> = [];
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const attribute = concept.attributes.get(name);
      if (!attribute) throw new ValidationError(concept.name, name, 'unknown', 'no such attribute');
      const fail = (rule: string, detail: string) => new ValidationError(concept.name, name, rule, detail);
      if (attribute.managed && !managed) throw fail('managed', 'set by the model itself, not by edits');
      const problem = typeProblem(attribute, value, this.schema.maxStringLength);
      if (problem) throw fail('type', problem);
      const violation = ruleViolation(attribute, value);
      if (violation) throw fail(violation.rule, violation.detail);
      const current = record.value(name);
      if (attribute.immutable && current !== undefined && current !== null && current !== value)
        throw fail('immutable', 'cannot change once set');
      if (value !== null && attribute.unique && [...this.#index.lookup(attribute, value)].some((other) => other !== record && !other.deleted))
        throw fail('unique', `${JSON.stringify(value)} is already used by another ${concept.name}`);
      if (value !== null && attribute.target && !this.#isLive(value, attribute.target))
        throw fail('reference', `${JSON.stringify(value)} is not a live ${attribute.target}`);
      checked.push([attribute, value]);
    }
    return checked;
  }

  // Runs one local operation and reports what it changed.
  #local(operation: (touched: Touched) => void): Touched {
    const touched = newTouched();
    operation(touched);
    for (const record of touched.records) this.#refreshConflicts(record);
    this.#compactIfOvergrown();
    this.#emit('local', touched);
    return touched;
  }

  // One local write: a fresh timestamp and dot. `resolve` replaces all writes, else the winner only.
  #write(record: EntityRecord, attribute: string, value: AttributeValue, resolve: boolean, touched: Touched): void {
    const register = record.register(attribute);
    const before = register.value;
    const write = { value, ts: this.clock.now(), dot: this.#nextDot() };
    if (resolve) register.resolve(write);
    else register.set(write);
    this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
    this.#registerChanged(record, attribute, before);
    touched.registers.set(register, [record, attribute]);
    if (resolve || attribute === DELETED) touched.records.add(record);
  }

  #nextDot(): Dot {
    const seq = this.nextSeq;
    this.#nextSeq = seq + 1;
    const dot = { node: this.nodeId, seq };
    this.#version.add(dot);
    return dot;
  }

  // ---------------------------------------------------------------- synchronization

  /** Every change the holder of `since` lacks; cost proportional to those changes (touch log). */
  getChangesSince(since: VersionVector): ModelChange[] {
    const registers = new Map<LWWRegister<AttributeValue>, readonly [EntityRecord, string]>();
    const relations = new Map<AWSet<string>, readonly [EntityRecord, string]>();
    const adds: Array<readonly [EntityRecord, string, string, Dot]> = [];
    this.#log.forEachSince(since, (node, entry) => {
      const { record, field } = entry;
      const dot = { node, seq: entry.seq };
      if (entry.kind === TouchKind.attribute) {
        const register = record.registers.get(field);
        if (register && !registers.has(register) && register.holds(dot)) registers.set(register, [record, field]);
      } else {
        const set = record.relations.get(field);
        if (!set) return;
        if (entry.kind === TouchKind.removal) {
          if (set.hasMark(dot)) relations.set(set, [record, field]);
        } else if (set.holds(entry.child!, dot)) adds.push([record, field, entry.child!, dot]);
      }
    });
    const changes: ModelChange[] = [];
    for (const [register, [record, attribute]] of registers)
      changes.push({ kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute, writes: register.writes });
    for (const [, [record, relation]] of relations) changes.push(record.childrenChange(relation));
    for (const [record, relation, child, dot] of adds)
      if (!relations.has(record.relations.get(relation)!))
        changes.push({ kind: 'child-add', entityType: record.concept.name, oid: record.oid, relation, child, dot });
    return changes;
  }

  /** `getChangesSince(since)` with `since` and this replica's version, ready to send. */
  getDelta(since: VersionVector): ChangeBatch {
    return { format: CHANGE_FORMAT, modelId: this.modelId, since: since.toJSON(), version: this.#version.toJSON(), changes: this.getChangesSince(since) };
  }

  /**
   * Merges changes from a peer. Every change is validated (structure unless the batch came from
   * `decodeChangeBatch`, concept, attribute or relation, value type and size, clock drift, forged
   * or uncovered dots); a rejected change alters nothing. Accepted changes are joined with the
   * batch's `version` as the sender's causal context (a plain array: each change's own dots). The
   * version is adopted only if this replica already holds `since`, nothing was rejected, and
   * this is the last part; otherwise no dot is added (see docs/architecture.md) and `complete`
   * is false when a full exchange is needed.
   */
  applyChanges(input: ChangeBatch | readonly ModelChange[]): ApplyChangesResult {
    const rejected: RejectedChange[] = [];
    let list: readonly unknown[];
    let context: VersionVector | undefined;
    let covered = true;
    let structured = false;
    let batch: ChangeBatch | undefined;
    if (Array.isArray(input)) list = input;
    else {
      batch = input as ChangeBatch;
      const problem = this.#batchProblem(batch);
      if (problem) return { applied: 0, ignored: 0, rejected: [{ change: input, reason: problem }], conflicts: [], complete: false };
      context = VersionVector.fromJSON(batch.version);
      covered = this.#version.includes(VersionVector.fromJSON(batch.since));
      structured = wasDecoded(batch);
      list = batch.changes;
      if (context.maxSeen(this.nodeId) >= this.nextSeq)
        rejected.push({ change: batch.version, reason: `the batch version claims operations of ${this.nodeId} that it never made` });
    }
    const touched = newTouched();
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
    let applied = 0;
    let ignored = 0;
    for (const raw of list) {
      const change = structured ? (raw as ModelChange) : decodeChange(raw, undefined);
      if (isDecodeError(change)) {
        rejected.push({ change: raw, reason: change.error });
        continue;
      }
      const problem = this.#changeProblem(change, context, limitMs);
      if (problem) rejected.push({ change: raw, reason: problem });
      else if (this.#ingest(change, context, touched)) applied++;
      else ignored++;
    }
    const complete = covered && rejected.length === 0;
    if (batch && context) this.#adopt(batch, context, complete);
    const conflicts = this.#settle(touched);
    this.#emit('remote', touched);
    return { applied, ignored, rejected, conflicts, complete };
  }

  /**
   * Settles conflicts on the registers named by `conflictingChanges` (attribute changes; others
   * are ignored). `choose` gets each register's current state and picks the value (default: the
   * shown winner); the pick is validated like any local edit (throws before anything is written)
   * and becomes one new write replacing every concurrent write. On a deleted entity, resolve
   * `$deleted`: true keeps it deleted (the concurrent edits stay inside, no longer conflicts),
   * false restores it.
   */
  resolveConflicts(
    conflictingChanges: readonly ModelChange[],
    choose?: (change: AttributeChange) => AttributeValue,
  ): ConflictResolution {
    const picks: Array<[EntityRecord, string, AttributeValue]> = [];
    const seen = new Set<string>();
    for (const change of conflictingChanges) {
      if (change.kind !== 'attribute') continue;
      const record = this.#records.get(change.oid);
      const key = `${change.oid}\u0000${change.attribute}`;
      if (!record || seen.has(key)) continue;
      seen.add(key);
      const register = record.registers.get(change.attribute);
      if (!register) continue;
      const inConflict = change.attribute === DELETED ? record.deleted && record.hasConflicts() : !record.deleted && register.hasConflicts;
      if (!inConflict) continue;
      const current: AttributeChange = { kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute: change.attribute, writes: register.writes };
      const value = choose ? choose(current) : register.value!;
      const schema = change.attribute === DELETED ? this.#deletedSchemas.get(record.concept.name)! : this.#attribute(record.concept, change.attribute);
      const problem = typeProblem(schema, value, this.schema.maxStringLength);
      if (problem) throw new ValidationError(record.concept.name, change.attribute, 'type', problem);
      const violation = ruleViolation(schema, value);
      if (violation) throw new ValidationError(record.concept.name, change.attribute, violation.rule, violation.detail);
      picks.push([record, change.attribute, value]);
    }
    if (!picks.length) return { resolved: [], changes: [] };
    const touched = this.#local((t) => {
      for (const [record, attribute, value] of picks) this.#write(record, attribute, value, true, t);
    });
    return {
      resolved: picks.map(([record, attribute, value]) => ({ oid: record.oid, attribute, value })),
      changes: changesOf(touched),
    };
  }

  /** The whole model with its version, in canonical order (equal states serialize equally). */
  getSnapshot(): ModelSnapshot {
    return { format: CHANGE_FORMAT, modelId: this.modelId, version: this.#version.toJSON(), entities: this.getEntityStates() };
  }

  /**
   * Merges a snapshot of this model: a full-state join, never discarding local state except
   * writes the snapshot's replica had seen and superseded. False (and nothing changes) for another
   * model's snapshot or one failing validation.
   */
  initializeFromSnapshot(snapshot: ModelSnapshot): boolean {
    const decoded = decodeSnapshot(snapshot);
    if (isDecodeError(decoded) || decoded.modelId !== this.modelId) return false;
    const context = VersionVector.fromJSON(decoded.version);
    if (context.maxSeen(this.nodeId) >= this.nextSeq) return false;
    const changes = decoded.entities.flatMap(stateToChanges);
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
    if (decoded.entities.some((entity) => this.#conceptProblem(entity.entityType))) return false;
    if (changes.some((change) => this.#changeProblem(change, context, limitMs))) return false;
    const touched = newTouched();
    const present = new Set<string>();
    for (const change of changes) {
      this.#ingest(change, context, touched);
      present.add(`${change.oid}\u0000${change.kind === 'attribute' ? change.attribute : `/${(change as { relation: string }).relation}`}`);
    }
    // A full-state join also drops what the snapshot's replica had seen and superseded in
    // registers and relations the snapshot does not list.
    for (const record of this.#records.values()) {
      for (const [attribute, register] of record.registers)
        if (!present.has(`${record.oid}\u0000${attribute}`)) this.#joinRegister(record, attribute, register, [], context, touched);
      for (const [relation, set] of record.relations)
        if (!present.has(`${record.oid}\u0000/${relation}`) && set.join({ items: [], removals: [] }, this.#version, context)) {
          touched.relations.set(set, [record, relation]);
          touched.records.add(record);
        }
    }
    this.#version.mergeWith(context);
    this.#settle(touched);
    this.#emit('remote', touched);
    return true;
  }

  /** Subscribes to local edits and applied remote changes; returns the unsubscribe function. */
  onChange(listener: (detail: ModelChangedDetail) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---------------------------------------------------------------- storage

  /** Entity states for storage: the given oids (unknown ones skipped), or all, sorted by oid. */
  getEntityStates(oids?: Iterable<string>): EntityState[] {
    const records: EntityRecord[] = [];
    if (oids) {
      for (const oid of oids) {
        const record = this.#records.get(oid);
        if (record) records.push(record);
      }
    } else records.push(...this.#records.values());
    return records
      .filter((record) => !record.isEmpty())
      .sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0))
      .map((record) => record.toState());
  }

  /**
   * Joins stored state (at startup, or after another tab wrote) with `version` as its causal
   * context, then adopts `version`. `entities` must hold every entity with a dot of `version` this
   * model lacks (all stored entities, or the ones written since the last load). Stored state is
   * this replica's own: no clock-drift check, but the structure and schema are still checked and
   * bad entities skipped (then the version is not adopted). Emits a `remote` change.
   */
  loadState(entities: readonly EntityState[], version: VersionVector): ApplyChangesResult {
    const rejected: RejectedChange[] = [];
    const touched = newTouched();
    let applied = 0;
    let ignored = 0;
    for (const raw of entities) {
      const state = decodeEntityState(raw);
      const changes = isDecodeError(state) ? [] : stateToChanges(state);
      const problem = isDecodeError(state)
        ? state.error
        : this.#conceptProblem(state.entityType) ?? changes.map((c) => this.#changeProblem(c, undefined, Infinity, true)).find(Boolean);
      if (problem) {
        rejected.push({ change: raw, reason: problem });
        continue;
      }
      for (const change of changes) {
        if (this.#ingest(change, version, touched)) applied++;
        else ignored++;
      }
    }
    if (!rejected.length) this.#version.mergeWith(version);
    this.#nextSeq = this.nextSeq;
    const conflicts = this.#settle(touched);
    this.#emit('remote', touched);
    return { applied, ignored, rejected, conflicts, complete: rejected.length === 0 };
  }

  /**
   * Joins one entity's state from another replica, with that replica's version as context, without
   * adopting it (used by `CRDTEntity.mergeWith`). Validated like remote changes. True if changed.
   */
  mergeEntity(state: EntityState, context: VersionVector): boolean {
    const decoded = decodeEntityState(state);
    if (isDecodeError(decoded)) throw new ValidationError(state.entityType, undefined, 'type', decoded.error);
    const changes = stateToChanges(decoded);
    const limitMs = this.clock.wallClock() + this.clock.maxDriftMs;
    const problem = this.#conceptProblem(decoded.entityType) ?? changes.map((change) => this.#changeProblem(change, context, limitMs)).find(Boolean);
    if (problem) throw new ValidationError(decoded.entityType, undefined, 'type', problem);
    const touched = newTouched();
    for (const change of changes) this.#ingest(change, context, touched);
    this.#settle(touched);
    this.#emit('remote', touched);
    return touched.records.size > 0;
  }

  // ---------------------------------------------------------------- remote changes, internals

  #batchProblem(batch: ChangeBatch): string | undefined {
    if (typeof batch !== 'object' || batch === null) return 'batch: not an object';
    if (batch.format !== CHANGE_FORMAT) return `batch: unsupported format ${String(batch.format)}`;
    if (batch.modelId !== this.modelId) return `batch: for model ${String(batch.modelId).slice(0, 128)}, not ${this.modelId}`;
    if (!Array.isArray(batch.changes)) return 'batch: changes must be an array';
    if (batch.partial !== undefined && typeof batch.partial !== 'boolean') return 'batch: partial must be a boolean';
    try {
      VersionVector.fromJSON(batch.since);
      VersionVector.fromJSON(batch.version);
    } catch (error) {
      if (error instanceof InvalidVersionVectorError) return `batch: ${error.message}`;
      throw error;
    }
    return undefined;
  }

  #conceptProblem(concept: string): string | undefined {
    return this.schema.concepts.has(concept) ? undefined : `unknown concept ${concept}`;
  }

  // The model's own checks on a structurally valid change. `trusted` (own storage) skips the
  // clock-drift and forged-dot checks.
  #changeProblem(change: ModelChange, context: VersionVector | undefined, limitMs: number, trusted = false): string | undefined {
    const concept = this.schema.concepts.get(change.entityType);
    if (!concept) return `unknown concept ${change.entityType}`;
    const existing = this.#records.get(change.oid);
    if (existing && existing.concept !== concept) return `entity ${change.oid} is a ${existing.concept.name}, not a ${concept.name}`;
    if (!existing && this.#records.size >= this.#maxEntities) return `the model holds the maximum of ${this.#maxEntities} entities`;
    const dotProblem = (dot: Dot): string | undefined => {
      if (!trusted && dot.node === this.nodeId && dot.seq >= this.nextSeq) return `dot ${dot.node}:${dot.seq} claims an operation this node never made`;
      if (context && !context.covers(dot)) return `dot ${dot.node}:${dot.seq} is not covered by the batch version`;
      return undefined;
    };
    if (change.kind === 'attribute') {
      const attribute = change.attribute === DELETED ? this.#deletedSchemas.get(concept.name) : concept.attributes.get(change.attribute);
      if (!attribute) return `unknown attribute ${concept.name}.${change.attribute}`;
      for (const write of change.writes) {
        const problem = typeProblem(attribute, write.value, this.schema.maxStringLength);
        if (problem) return `${concept.name}.${attribute.name}: ${problem}`;
        if (!trusted && write.ts.ms > limitMs) return `timestamp ${write.ts.ms} is more than ${this.clock.maxDriftMs} ms ahead of this clock`;
        const bad = dotProblem(write.dot);
        if (bad) return bad;
      }
      return undefined;
    }
    if (!concept.children.has(change.relation)) return `unknown relation ${concept.name}.${change.relation}`;
    if (change.kind === 'child-add') return dotProblem(change.dot);
    for (const [, dots] of change.items) for (const dot of dots) if (dotProblem(dot)) return dotProblem(dot);
    for (const dot of change.removals ?? []) if (dotProblem(dot)) return dotProblem(dot);
    return undefined;
  }

  // Joins one validated change. `context` is the sender's causal context; without one, each
  // change's own dots (so nothing held here is dropped). True if state changed. An entity is
  // only materialized if the join keeps something.
  #ingest(change: ModelChange, context: VersionVector | undefined, touched: Touched): boolean {
    const concept = this.schema.concepts.get(change.entityType)!;
    let record = this.#records.get(change.oid);
    if (change.kind === 'attribute') {
      const register = record?.registers.get(change.attribute) ?? new LWWRegister<AttributeValue>();
      record ??= new EntityRecord(change.oid, concept);
      return this.#joinRegister(record, change.attribute, register, change.writes, context ?? writesContext(change), touched);
    }
    const set = record?.relations.get(change.relation) ?? new AWSet<string>();
    let added: ReadonlyArray<readonly [string, Dot]>;
    let marks: readonly Dot[] = [];
    if (change.kind === 'child-add') {
      if (!set.joinAdd(change.child, change.dot, this.#version)) return false;
      added = [[change.child, change.dot]];
    } else {
      const result = set.join({ items: change.items, removals: change.removals ?? [] }, this.#version, context ?? itemsContext(change.items));
      if (!result) return false;
      ({ added, marks } = result);
    }
    record ??= new EntityRecord(change.oid, concept);
    if (!this.#records.has(record.oid)) this.#addRecord(record);
    if (!record.relations.has(change.relation)) record.relations.set(change.relation, set);
    if (change.kind === 'child-add') touched.adds.push(change);
    else touched.relations.set(set, [record, change.relation]);
    for (const [child, dot] of added) this.#log.record(dot.node, dot.seq, record, change.relation, TouchKind.add, child);
    for (const dot of marks) this.#log.record(dot.node, dot.seq, record, change.relation, TouchKind.removal);
    touched.records.add(record);
    return true;
  }

  #joinRegister(
    record: EntityRecord,
    attribute: string,
    register: LWWRegister<AttributeValue>,
    writes: readonly AttributeWrite[],
    context: CausalContext,
    touched: Touched,
  ): boolean {
    const before = register.value;
    const result = register.join(writes, this.#version, context);
    if (!result) return false;
    if (!this.#records.has(record.oid)) this.#addRecord(record);
    if (!record.registers.has(attribute)) record.registers.set(attribute, register);
    for (const write of result.added) {
      this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
      // Checked against the drift limit already (or from trusted storage): the clock may pass it.
      this.clock.witness(write.ts);
    }
    this.#registerChanged(record, attribute, before);
    touched.registers.set(register, [record, attribute]);
    touched.records.add(record);
    return true;
  }

  #adopt(batch: ChangeBatch, context: VersionVector, complete: boolean): void {
    const key = JSON.stringify(batch.since) + JSON.stringify(batch.version);
    if (batch.partial) {
      if (!complete && !this.#poisoned.includes(key)) {
        this.#poisoned.push(key);
        if (this.#poisoned.length > MAX_POISONED) this.#poisoned.shift();
      }
      return;
    }
    const poisoned = this.#poisoned.indexOf(key);
    if (poisoned >= 0) {
      this.#poisoned.splice(poisoned, 1);
      return;
    }
    if (complete) this.#version.mergeWith(context);
  }

  // After a merge: conflict bookkeeping, log compaction; returns the conflicts on what was touched.
  #settle(touched: Touched): Conflict[] {
    const conflicts: Conflict[] = [];
    for (const record of touched.records) {
      this.#refreshConflicts(record);
      for (const conflict of record.conflicts()) {
        const register = record.registers.get(conflict.attribute);
        if (conflict.attribute === DELETED || (register && touched.registers.has(register))) conflicts.push(conflict);
      }
    }
    this.#compactIfOvergrown();
    return conflicts;
  }

  #registerChanged(record: EntityRecord, attribute: string, before: AttributeValue | undefined): void {
    const schema = record.concept.attributes.get(attribute);
    if (schema?.indexed) this.#index.update(schema, record, before, record.value(attribute));
  }

  #refreshConflicts(record: EntityRecord): void {
    if (record.hasConflicts()) this.#conflicted.add(record);
    else this.#conflicted.delete(record);
  }

  #compactIfOvergrown(): void {
    if (!this.#log.overgrown) return;
    this.#log.clear();
    for (const record of this.#records.values()) {
      for (const [attribute, register] of record.registers)
        for (const write of register.writes) this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
      for (const [relation, set] of record.relations) {
        for (const [child, dots] of set.entries()) for (const dot of dots) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.add, child);
        for (const dot of set.removals()) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.removal);
      }
    }
    this.#log.settle();
  }

  #emit(origin: 'local' | 'remote', touched: Touched): void {
    if (!this.#listeners.size) return;
    const changes = changesOf(touched);
    if (!changes.length) return;
    const detail: ModelChangedDetail = origin === 'local' ? { modelId: this.modelId, origin, changes, nodeId: this.nodeId } : { modelId: this.modelId, origin, changes };
    for (const listener of [...this.#listeners]) {
      try {
        listener(detail);
      } catch (error) {
        // A failing listener must not break the model or the other listeners.
        this.#onListenerError(error);
      }
    }
  }

  // ---------------------------------------------------------------- lookups

  #addRecord(record: EntityRecord): EntityRecord {
    this.#records.set(record.oid, record);
    this.#byConcept.get(record.concept.name)!.set(record.oid, record);
    return record;
  }

  #handle(record: EntityRecord): CRDTEntity {
    return (record.handle ??= new CRDTEntity(this, record));
  }

  #concept(name: string): ConceptSchema {
    const concept = this.schema.concepts.get(name);
    if (!concept) throw new ValidationError(name, undefined, 'unknown', 'no such concept');
    return concept;
  }

  #conceptRecords(name: string): Map<string, EntityRecord> {
    this.#concept(name);
    return this.#byConcept.get(name)!;
  }

  #attribute(concept: ConceptSchema, name: string): AttributeSchema {
    const attribute = concept.attributes.get(name);
    if (!attribute) throw new ValidationError(concept.name, name, 'unknown', 'no such attribute');
    return attribute;
  }

  #relation(concept: ConceptSchema, name: string) {
    const relation = concept.children.get(name);
    if (!relation) throw new ValidationError(concept.name, name, 'unknown', 'no such relation');
    return relation;
  }

  #existing(oid: string): EntityRecord {
    const record = this.#records.get(oid);
    if (!record || record.isEmpty()) throw new ValidationError(undefined, undefined, 'exists', `no entity ${JSON.stringify(oid)}`);
    return record;
  }

  #live(oid: string): EntityRecord {
    const record = this.#existing(oid);
    if (record.deleted) throw new ValidationError(record.concept.name, undefined, 'deleted', `entity ${oid} is deleted`);
    return record;
  }

  #isLive(oid: AttributeValue, concept: string): boolean {
    if (typeof oid !== 'string') return false;
    const record = this.#records.get(oid);
    return record !== undefined && record.concept.name === concept && !record.deleted && !record.isEmpty();
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

function newTouched(): Touched {
  return { registers: new Map(), relations: new Map(), adds: [], records: new Set() };
}

// The changes describing what a local operation or merge touched: whole registers and relations
// as they are now, and single adds (unless their relation is sent whole).
function changesOf(touched: Touched): ModelChange[] {
  const changes: ModelChange[] = [];
  for (const [register, [record, attribute]] of touched.registers)
    changes.push({ kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute, writes: register.writes });
  for (const [, [record, relation]] of touched.relations) changes.push(record.childrenChange(relation));
  const whole = new Set([...touched.relations.values()].map(([record, relation]) => `${record.oid}\u0000${relation}`));
  for (const add of touched.adds) if (!whole.has(`${add.oid}\u0000${add.relation}`)) changes.push(add);
  return changes;
}

// Without a sender context, a change's causal context is its own dots: a pure union.
function writesContext(change: AttributeChange): CausalContext {
  return { covers: (dot) => change.writes.some((write) => write.dot.seq === dot.seq && write.dot.node === dot.node) };
}

function itemsContext(items: ReadonlyArray<readonly [string, readonly Dot[]]>): CausalContext {
  return { covers: (dot) => items.some(([, dots]) => dots.some((d) => d.seq === dot.seq && d.node === dot.node)) };
}
