import {
  AWSet,
  type CausalContext,
  type Dot,
  type HybridLogicalClock,
  LWWRegister,
  type NodeId,
  VersionVector,
  compareWrites,
} from '../crdt/index.js';
import { AttributeIndex } from './attribute-index.js';
import { typeProblem } from './attribute-rules.js';
import { type AttributeSchema, DELETED, type DomainSchema, deletedAttribute } from './domain-schema.js';
import { EntityRecord } from './entity-record.js';
import { StateDigest } from './state-digest.js';
import type { AttributeChange, AttributeValue, AttributeWrite, ChildAddChange, Conflict, EntityState, ModelChange } from './model-change.js';
import { TouchKind, TouchLog } from './touch-log.js';
import { type RemovalEvidence, evidencedContext } from './removal-evidence.js';

/** What one local operation or one merge touched: for events, conflicts and results. */
export interface Touched {
  readonly registers: Map<LWWRegister<AttributeValue>, readonly [EntityRecord, string]>;
  readonly relations: Map<AWSet<string>, readonly [EntityRecord, string]>;
  readonly adds: ChildAddChange[];
  readonly records: Set<EntityRecord>;
  /** Dots that local operations dropped from state (overwritten winners, removed children). */
  readonly superseded: Dot[];
}

/** An empty `Touched`. */
export function newTouched(): Touched {
  return { registers: new Map(), relations: new Map(), adds: [], records: new Set(), superseded: [] };
}

/**
 * The changes describing what was touched: whole registers and relations as they are now, and
 * single adds (unless their relation is listed whole).
 */
export function changesOf(touched: Touched): ModelChange[] {
  const changes: ModelChange[] = [];
  for (const [register, [record, attribute]] of touched.registers)
    changes.push({ kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute, writes: register.writes });
  for (const [, [record, relation]] of touched.relations) changes.push(record.childrenChange(relation));
  const whole = new Set([...touched.relations.values()].map(([record, relation]) => `${record.oid}\u0000${relation}`));
  for (const add of touched.adds) if (!whole.has(`${add.oid}\u0000${add.relation}`)) changes.push(add);
  return changes;
}

/**
 * The replicated state of one model and every way it changes: local writes (stamped with a fresh
 * timestamp and dot), validated joins of remote state, the touch log that makes deltas cheap, and
 * the indexes (unique values, references, conflicted entities) kept in step with each change.
 * Internal to the domain layer; `DomainModel` is its public face.
 */
export class ReplicaState {
  readonly records = new Map<string, EntityRecord>();
  /** This replica's causal context. Only own operations and whole adopted versions add to it. */
  readonly version = new VersionVector();
  readonly index = new AttributeIndex();
  readonly #byConcept = new Map<string, Map<string, EntityRecord>>();
  readonly #deletedSchemas = new Map<string, AttributeSchema>();
  readonly #log = new TouchLog();
  readonly #conflicted = new Set<EntityRecord>();
  /** The digest of the entity states, told of every entity `settle` sees touched. */
  readonly digest = new StateDigest();
  #nextSeq: number;

  constructor(
    readonly schema: DomainSchema,
    readonly nodeId: NodeId,
    readonly clock: HybridLogicalClock,
    firstSeq: number,
    readonly maxEntities: number,
  ) {
    this.#nextSeq = firstSeq;
    for (const name of schema.concepts.keys()) {
      this.#byConcept.set(name, new Map());
      this.#deletedSchemas.set(name, deletedAttribute(name));
    }
  }

  /** The seq the next own operation will use at the earliest. */
  get nextSeq(): number {
    return Math.max(this.#nextSeq, this.version.maxSeen(this.nodeId) + 1);
  }

  /** Never use seqs up to `seq` again (and count them as seen). */
  markOwnSequenceUsedUpTo(seq: number): void {
    this.version.update(this.nodeId, seq);
    this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
  }

  /** Own seqs up to `seq` are never used again; the version does not claim them. */
  skipOwnSequencesUpTo(seq: number): void {
    this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
  }

  /** Records of one concept, deleted ones included (undefined for an unknown concept). */
  conceptRecords(concept: string): ReadonlyMap<string, EntityRecord> | undefined {
    return this.#byConcept.get(concept);
  }

  /** The schema of the reserved `$deleted` register of a concept. */
  deletedSchema(concept: string): AttributeSchema {
    return this.#deletedSchemas.get(concept)!;
  }

  /** True if `oid` names a live entity of `concept`. */
  isLive(oid: AttributeValue, concept: string): boolean {
    if (typeof oid !== 'string') return false;
    const record = this.records.get(oid);
    return record !== undefined && record.concept.name === concept && !record.deleted && !record.isEmpty();
  }

  /** Entities that currently have conflicts. */
  conflicted(): ReadonlySet<EntityRecord> {
    return this.#conflicted;
  }

  /** Registers a new record. */
  addRecord(record: EntityRecord): EntityRecord {
    this.records.set(record.oid, record);
    this.#byConcept.get(record.concept.name)!.set(record.oid, record);
    return record;
  }

  // ---------------------------------------------------------------- local operations

  /** One local write with a fresh timestamp and dot. `resolve` replaces all writes, else the winner. */
  write(record: EntityRecord, attribute: string, value: AttributeValue, resolve: boolean, touched: Touched): void {
    const register = record.register(attribute);
    const before = register.value;
    const write = { value, ts: this.clock.now(), dot: this.#nextDot() };
    const replaced = resolve ? register.writes : register.winner ? [register.winner] : [];
    for (const old of replaced) {
      touched.superseded.push(old.dot);
      this.#witnessReplaced(old.dot);
    }
    if (resolve) register.resolve(write);
    else register.set(write);
    this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
    this.#registerChanged(record, attribute, before);
    touched.registers.set(register, [record, attribute]);
    // A local set keeps a live entity's conflicts as they were; these can change them.
    if (resolve || attribute === DELETED) touched.records.add(record);
  }

  /** One local child add. */
  addChild(record: EntityRecord, relation: string, child: string, touched: Touched): void {
    const dot = this.#nextDot();
    const set = record.relation(relation);
    touched.superseded.push(...set.dotsOf(child));
    set.add(child, dot);
    this.#log.record(dot.node, dot.seq, record, relation, TouchKind.add, child);
    touched.adds.push({ kind: 'child-add', entityType: record.concept.name, oid: record.oid, relation, child, dot });
  }

  /** One local child removal: its dot becomes this node's removal mark on the relation. */
  removeChild(record: EntityRecord, relation: string, child: string, touched: Touched): void {
    const dot = this.#nextDot();
    const set = record.relation(relation);
    const removed = set.remove(child);
    touched.superseded.push(...removed);
    for (const old of removed) this.#witnessReplaced(old);
    set.markRemoval(dot, removed);
    this.#log.record(dot.node, dot.seq, record, relation, TouchKind.removal);
    touched.relations.set(set, [record, relation]);
  }

  // A dot held outside the version (joined from a delta whose version was not adopted) left the
  // state: a local operation replaced or removed it, or a join dropped it as another replica's
  // context had seen and superseded it. The version now covers it, so it stays an exact context
  // of the state: the operation's context tells every replica the dot is gone, the dot is never
  // taken back from a peer that still holds it, and a save (joined into storage with this
  // version) drops it there too. Without this, a replaced write stays next to its replacement
  // everywhere (a false conflict), and storage keeps a write memory dropped. (What this version
  // lacks of that dot's causal past stays out until a version covering it is adopted; the digest
  // repair then drops it wherever it came back: docs/architecture.md.)
  #witnessReplaced(dot: Dot): void {
    if (!this.version.covers(dot)) this.version.add(dot);
  }

  // `result` of a set join, with the dots it dropped witnessed.
  #joinedAway<T>(result: { readonly removed: ReadonlyArray<readonly [T, Dot]> } | null): boolean {
    if (!result) return false;
    for (const [, dot] of result.removed) this.#witnessReplaced(dot);
    return true;
  }

  #nextDot(): Dot {
    const seq = this.nextSeq;
    this.#nextSeq = seq + 1;
    const dot = { node: this.nodeId, seq };
    this.version.add(dot);
    return dot;
  }

  // ---------------------------------------------------------------- remote state

  /** The problem with an entity of this concept, if the concept is unknown. */
  conceptProblem(concept: string): string | undefined {
    return this.schema.concepts.has(concept) ? undefined : `unknown concept ${concept}`;
  }

  /**
   * The model's own checks on a structurally valid change: known concept, attribute or relation,
   * value types and the string cap, the entity cap, timestamps not beyond `limitMs`, no dot of this
   * node it never made, and every dot covered by the sender's `context`. `trusted` (this
   * replica's own storage) skips the clock and forged-dot checks.
   */
  changeProblem(change: ModelChange, context: VersionVector | undefined, limitMs: number, trusted = false): string | undefined {
    const concept = this.schema.concepts.get(change.entityType);
    if (!concept) return `unknown concept ${change.entityType}`;
    const existing = this.records.get(change.oid);
    if (existing && existing.concept !== concept) return `entity ${change.oid} is a ${existing.concept.name}, not a ${concept.name}`;
    if (!existing && this.records.size >= this.maxEntities) return `the model holds the maximum of ${this.maxEntities} entities`;
    if (change.kind === 'attribute') {
      const attribute = change.attribute === DELETED ? this.#deletedSchemas.get(concept.name) : concept.attributes.get(change.attribute);
      if (!attribute) return `unknown attribute ${concept.name}.${change.attribute}`;
      for (const write of change.writes) {
        const problem = typeProblem(attribute, write.value, this.schema.maxStringLength);
        if (problem) return `${concept.name}.${attribute.name}: ${problem}`;
        if (!trusted && write.ts.ms > limitMs) return clockProblem(write.ts.ms, write.dot.node, limitMs - this.clock.maxDriftMs, this.clock.maxDriftMs);
        const bad = this.#dotProblem(write.dot, context, trusted);
        if (bad) return bad;
      }
      return undefined;
    }
    if (!concept.children.has(change.relation)) return `unknown relation ${concept.name}.${change.relation}`;
    if (change.kind === 'child-add') return this.#dotProblem(change.dot, context, trusted);
    const dots = [...change.items.flatMap(([, d]) => d), ...(change.removals ?? [])];
    return dots.map((dot) => this.#dotProblem(dot, context, trusted)).find(Boolean);
  }

  #dotProblem(dot: Dot, context: VersionVector | undefined, trusted: boolean): string | undefined {
    if (!trusted && dot.node === this.nodeId && dot.seq >= this.nextSeq) return `dot ${dot.node}:${dot.seq} claims an operation this node never made`;
    if (context && !context.covers(dot)) return `dot ${dot.node}:${dot.seq} is not covered by the batch version`;
    return undefined;
  }

  /**
   * Joins one validated change. `context` is the sender's causal context; without one, each
   * change's own dots (a pure union: nothing held here is dropped). True if state changed. An
   * entity is only materialized if the join keeps something.
   */
  ingest(change: ModelChange, context: CausalContext | undefined, touched: Touched): boolean {
    const concept = this.schema.concepts.get(change.entityType)!;
    const record = this.records.get(change.oid) ?? new EntityRecord(change.oid, concept);
    if (change.kind === 'attribute') {
      const register = record.registers.get(change.attribute);
      if (!register) return this.#joinNewRegister(record, change.attribute, change.writes, touched);
      return this.joinRegister(record, change.attribute, register, change.writes, context ?? writesContext(change), touched);
    }
    const set = record.relations.get(change.relation) ?? new AWSet<string>();
    let added: ReadonlyArray<readonly [string, Dot]>;
    let marks: readonly Dot[] = [];
    if (change.kind === 'child-add') {
      if (!set.joinAdd(change.child, change.dot, this.version)) return false;
      added = [[change.child, change.dot]];
      touched.adds.push(change);
    } else {
      const result = set.join({ items: change.items, removals: change.removals ?? [] }, this.version, context ?? itemsContext(change.items));
      if (!result) return false;
      ({ added, marks } = result);
      for (const [, dot] of result.removed) this.#witnessReplaced(dot);
      touched.relations.set(set, [record, change.relation]);
    }
    if (!this.records.has(record.oid)) this.addRecord(record);
    if (!record.relations.has(change.relation)) record.relations.set(change.relation, set);
    for (const [child, dot] of added) this.#log.record(dot.node, dot.seq, record, change.relation, TouchKind.add, child);
    for (const dot of marks) this.#log.record(dot.node, dot.seq, record, change.relation, TouchKind.removal);
    touched.records.add(record);
    return true;
  }

  /** Joins remote writes into one register (attaching register and record if anything is kept). */
  joinRegister(
    record: EntityRecord,
    attribute: string,
    register: LWWRegister<AttributeValue>,
    writes: readonly AttributeWrite[],
    context: CausalContext,
    touched: Touched,
  ): boolean {
    const before = register.value;
    const result = register.join(writes, this.version, context);
    if (!result) return false;
    for (const write of result.removed) this.#witnessReplaced(write.dot);
    this.#registerJoined(record, attribute, register, before, result.added, touched);
    return true;
  }

  // Attaches a register a join changed, logs and witnesses the writes it added, and notes it.
  #registerJoined(
    record: EntityRecord,
    attribute: string,
    register: LWWRegister<AttributeValue>,
    before: AttributeValue | undefined,
    added: readonly AttributeWrite[],
    touched: Touched,
  ): void {
    if (!this.records.has(record.oid)) this.addRecord(record);
    if (!record.registers.has(attribute)) record.registers.set(attribute, register);
    for (const write of added) {
      this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
      // Checked against the drift limit already (or from trusted storage): the clock may pass it.
      this.clock.witness(write.ts);
    }
    this.#registerChanged(record, attribute, before);
    touched.registers.set(register, [record, attribute]);
    touched.records.add(record);
  }

  // The join of remote writes into a register this record does not have yet: an empty register
  // keeps every write this replica has not seen (whatever the sender's context), so the join
  // reduces to a filter, without a register to join into and a result to compare.
  #joinNewRegister(record: EntityRecord, attribute: string, writes: readonly AttributeWrite[], touched: Touched): boolean {
    const version = this.version;
    let kept = writes;
    for (const write of writes)
      if (version.covers(write.dot)) {
        kept = writes.filter((w) => !version.covers(w.dot));
        break;
      }
    if (!kept.length) return false;
    const register = new LWWRegister<AttributeValue>();
    // One write, the usual case: `resolve` stores it as an exact one-element array, where the
    // constructor would push it into an array with room for 17.
    if (kept.length === 1) register.resolve(kept[0]!);
    else register.join(kept, version, version);
    if (!this.records.has(record.oid)) this.addRecord(record);
    record.registers.set(attribute, register);
    for (const write of register.writes) {
      this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
      // Checked against the drift limit already (or from trusted storage): the clock may pass it.
      this.clock.witness(write.ts);
    }
    this.#registerChanged(record, attribute, undefined);
    touched.registers.set(register, [record, attribute]);
    touched.records.add(record);
    return true;
  }

  /**
   * The model's checks on one decoded entity state from this replica's own storage, once per
   * entity rather than once per register: known concept (the one of the entity held already),
   * the entity cap, known attributes and relations, value types and the string cap. Stored state
   * is trusted for clocks and dots (see `changeProblem`).
   */
  storedStateProblem(state: EntityState): string | undefined {
    const concept = this.schema.concepts.get(state.entityType);
    if (!concept) return `unknown concept ${state.entityType}`;
    const existing = this.records.get(state.oid);
    if (existing && existing.concept !== concept) return `entity ${state.oid} is a ${existing.concept.name}, not a ${concept.name}`;
    if (!existing && this.records.size >= this.maxEntities) return `the model holds the maximum of ${this.maxEntities} entities`;
    for (const name of Object.keys(state.attributes)) {
      const attribute = name === DELETED ? this.#deletedSchemas.get(concept.name) : concept.attributes.get(name);
      if (!attribute) return `unknown attribute ${concept.name}.${name}`;
      for (const write of state.attributes[name]!) {
        const problem = typeProblem(attribute, write.value, this.schema.maxStringLength);
        if (problem) return `${concept.name}.${attribute.name}: ${problem}`;
      }
    }
    for (const name of Object.keys(state.children)) if (!concept.children.has(name)) return `unknown relation ${concept.name}.${name}`;
    for (const name of Object.keys(state.removals ?? {})) if (!concept.children.has(name)) return `unknown relation ${concept.name}.${name}`;
    return undefined;
  }

  /**
   * Joins one entity state checked by `storedStateProblem`, with `context` as its causal context:
   * each register and relation as `ingest` would join the changes of `stateToChanges`, without
   * making them. Counts each register and relation in `counts` as applied or ignored.
   */
  joinState(state: EntityState, context: VersionVector, touched: Touched, counts: { applied: number; ignored: number }): void {
    const { entityType, oid } = state;
    const record = this.records.get(oid) ?? new EntityRecord(oid, this.schema.concepts.get(entityType)!);
    for (const attribute of Object.keys(state.attributes)) {
      const writes = state.attributes[attribute]!;
      const register = record.registers.get(attribute);
      const changed = register
        ? this.joinRegister(record, attribute, register, writes, context, touched)
        : this.#joinNewRegister(record, attribute, writes, touched);
      if (changed) counts.applied++;
      else counts.ignored++;
    }
    const removals = state.removals;
    if (!removals && !Object.keys(state.children).length) return;
    for (const relation of new Set([...Object.keys(state.children), ...Object.keys(removals ?? {})])) {
      const items = Object.hasOwn(state.children, relation) ? state.children[relation]! : [];
      const marks = removals && Object.hasOwn(removals, relation) ? removals[relation]! : [];
      const change: ModelChange = { kind: 'children', entityType, oid, relation, items, ...(marks.length ? { removals: marks } : {}) };
      if (this.ingest(change, context, touched)) counts.applied++;
      else counts.ignored++;
    }
  }

  /**
   * Joins another replica's copy of an entity (every change of its `stateToChanges` checked by
   * `changeProblem`), held by a replica with version `context`, for a repair: both replicas claim
   * to have seen what the other holds, yet their states differ, so one of them lost state its
   * version still covers. The join of `ingest` would then drop, on each side, whatever the other
   * side's version covers and its state lacks: lost state would win over held state. Here a
   * version counts as having seen and dropped a write only if its replica holds a later write in
   * the same register (every overwrite leaves one), and as having seen and removed a child's dot
   * only if its replica holds removal marks on that relation (every removal leaves one); otherwise
   * the dot is kept on both sides. So nothing held is dropped without evidence in the other
   * state, and what the other state holds comes back. With `evidence` (signed rooms), a child's
   * dot leaves only on a mark that names it, as for a delta (`evidencedContext`). With honest
   * versions this is the same join as `ingest`. Counts each register and relation in `counts`.
   */
  repairState(
    state: EntityState,
    context: VersionVector,
    touched: Touched,
    counts: { applied: number; ignored: number },
    evidence?: RemovalEvidence,
  ): void {
    const { entityType, oid } = state;
    const record = this.records.get(oid) ?? new EntityRecord(oid, this.schema.concepts.get(entityType)!);
    for (const attribute of Object.keys(state.attributes)) {
      const theirs = state.attributes[attribute]!;
      const register = record.registers.get(attribute) ?? new LWWRegister<AttributeValue>();
      const before = register.value;
      const mine = register.writes;
      const result = register.join(theirs, supersededContext(this.version, mine, theirs), supersededContext(context, theirs, mine));
      if (!result) {
        counts.ignored++;
        continue;
      }
      for (const write of result.removed) this.#witnessReplaced(write.dot);
      this.#registerJoined(record, attribute, register, before, result.added, touched);
      counts.applied++;
    }
    const removals = state.removals ?? {};
    for (const relation of new Set([...Object.keys(state.children), ...Object.keys(removals)])) {
      const set = record.relations.get(relation) ?? new AWSet<string>();
      const items = Object.hasOwn(state.children, relation) ? state.children[relation]! : [];
      const marks = Object.hasOwn(removals, relation) ? removals[relation]! : [];
      const own = set.removals().length ? this.version : NOTHING;
      // Where removals need signed evidence, only adds the sent marks name leave (as in a delta).
      const change: ModelChange = { kind: 'children', entityType, oid, relation, items, removals: marks };
      const theirs = !marks.length ? NOTHING : evidence ? evidencedContext(change, context, evidence, () => []) : context;
      const result = set.join({ items, removals: marks }, own, theirs);
      if (!result) {
        counts.ignored++;
        continue;
      }
      for (const [, dot] of result.removed) this.#witnessReplaced(dot);
      if (!this.records.has(oid)) this.addRecord(record);
      if (!record.relations.has(relation)) record.relations.set(relation, set);
      for (const [child, dot] of result.added) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.add, child);
      for (const dot of result.marks) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.removal);
      touched.relations.set(set, [record, relation]);
      touched.records.add(record);
      counts.applied++;
    }
  }

  /**
   * The rest of a full-state join: registers and relations the other state does not list (`listed`
   * holds `oid\0attribute` and `oid\0/relation` keys) lose what `context` had seen and dropped.
   */
  joinUnlisted(listed: ReadonlySet<string>, context: VersionVector, touched: Touched): void {
    for (const record of this.records.values()) {
      for (const [attribute, register] of record.registers)
        if (!listed.has(`${record.oid}\u0000${attribute}`)) this.joinRegister(record, attribute, register, [], context, touched);
      for (const [relation, set] of record.relations)
        if (!listed.has(`${record.oid}\u0000/${relation}`) && this.#joinedAway(set.join({ items: [], removals: [] }, this.version, context))) {
          touched.relations.set(set, [record, relation]);
          touched.records.add(record);
        }
    }
  }

  /** Every change the holder of `since` lacks, read from the touch log (stale entries skipped). */
  changesSince(since: VersionVector): ModelChange[] {
    // In the order of the log (by node, then seq), so a delta cut into parts keeps each author's
    // runs of operations together: the certificates of signed changes then mostly travel with
    // all their items in one part (see docs/security.md, elided hash lists).
    // A relation that lost children is listed by its place and built once the visit is done.
    const changes: Array<ModelChange | { readonly whole: readonly [EntityRecord, string] }> = [];
    const registers = new Set<LWWRegister<AttributeValue>>();
    const relations = new Map<AWSet<string>, readonly [EntityRecord, string]>();
    // One dot object for the checks; only the adds that are sent get their own.
    const dot: { node: NodeId; seq: number } = { node: this.nodeId, seq: 0 };
    this.#log.forEachSince(since, (node, seq, record, field, kind, child) => {
      dot.node = node;
      dot.seq = seq;
      if (kind === TouchKind.attribute) {
        const register = record.registers.get(field);
        if (register && !registers.has(register) && register.holds(dot)) {
          registers.add(register);
          changes.push({ kind: 'attribute', entityType: record.concept.name, oid: record.oid, attribute: field, writes: register.writes });
        }
        return;
      }
      const set = record.relations.get(field);
      if (set && kind === TouchKind.removal && set.hasMark(dot) && !relations.has(set)) {
        const whole = [record, field] as const;
        relations.set(set, whole);
        changes.push({ whole });
      }
      if (set && kind === TouchKind.add && set.holds(child!, dot)) {
        const add: ChildAddChange = { kind: 'child-add', entityType: record.concept.name, oid: record.oid, relation: field, child: child!, dot: { node, seq } };
        changes.push(add);
      }
    });
    // A relation that lost children goes whole (at its first place), and then its adds do not.
    const whole = new Set([...relations.values()].map(([record, relation]) => `${record.oid}\u0000${relation}`));
    const result: ModelChange[] = [];
    for (const change of changes) {
      if ('whole' in change) result.push(change.whole[0].childrenChange(change.whole[1]));
      else if (change.kind !== 'child-add' || !whole.has(`${change.oid}\u0000${change.relation}`)) result.push(change);
    }
    return result;
  }

  /** After a change: conflict bookkeeping and log compaction. Returns the conflicts on what was touched. */
  settle(touched: Touched): Conflict[] {
    this.#markStale(touched);
    const conflicts: Conflict[] = [];
    for (const record of touched.records) {
      if (!record.hasConflicts()) {
        this.#conflicted.delete(record);
        continue;
      }
      this.#conflicted.add(record);
      for (const conflict of record.conflicts()) {
        const register = record.registers.get(conflict.attribute);
        if (conflict.attribute === DELETED || (register && touched.registers.has(register))) conflicts.push(conflict);
      }
    }
    if (this.#log.overgrown) {
      // A rebuild only pays when many entries went stale. After a bulk join (a whole delta, a
      // snapshot, a load from storage) nearly all are live, and logging them all again would add
      // a third to the cost of the join; counting them allocates nothing.
      if (this.#liveEntries() * 4 > this.#log.size * 3) this.#log.settle();
      else this.#rebuildLog();
    }
    return conflicts;
  }

  // Every entity whose state the operation may have changed: local writes and adds are listed
  // only by register or add, not in `records` (which is for conflict bookkeeping).
  #markStale(touched: Touched): void {
    const digest = this.digest;
    for (const record of touched.records) digest.markStale(record);
    for (const [record] of touched.registers.values()) digest.markStale(record);
    for (const [record] of touched.relations.values()) digest.markStale(record);
    for (const add of touched.adds) {
      const record = this.records.get(add.oid);
      if (record) digest.markStale(record);
    }
  }

  // The entries a rebuild would keep: one per held write, child dot and removal mark.
  #liveEntries(): number {
    let live = 0;
    for (const record of this.records.values()) {
      for (const register of record.registers.values()) live += register.writes.length;
      for (const set of record.relations.values()) {
        for (const [, dots] of set.entries()) live += dots.length;
        live += set.markCount;
      }
    }
    return live;
  }

  #registerChanged(record: EntityRecord, attribute: string, before: AttributeValue | undefined): void {
    const schema = record.concept.attributes.get(attribute);
    if (schema?.indexed) this.index.update(schema, record, before, record.value(attribute));
  }

  // The log from the state alone: one entry per held dot and removal mark.
  #rebuildLog(): void {
    this.#log.clear();
    for (const record of this.records.values()) {
      for (const [attribute, register] of record.registers)
        for (const write of register.writes) this.#log.record(write.dot.node, write.dot.seq, record, attribute, TouchKind.attribute);
      for (const [relation, set] of record.relations) {
        for (const [child, dots] of set.entries()) for (const dot of dots) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.add, child);
        for (const dot of set.removals()) this.#log.record(dot.node, dot.seq, record, relation, TouchKind.removal);
      }
    }
    this.#log.settle();
  }
}

// A context that has seen nothing.
const NOTHING: CausalContext = { covers: () => false };

// `version` as the context of a register holding `held`, for judging the writes of `other` it
// lacks: it counts as having seen (and replaced) such a write only if it holds a later one.
function supersededContext(version: VersionVector, held: readonly AttributeWrite[], other: readonly AttributeWrite[]): CausalContext {
  return {
    covers: (dot) => {
      if (!version.covers(dot)) return false;
      const write = other.find((w) => w.dot.seq === dot.seq && w.dot.node === dot.node);
      return write !== undefined && held.some((w) => compareWrites(w, write) > 0);
    },
  };
}

// Without a sender context, a change's causal context is its own dots.
function writesContext(change: AttributeChange): CausalContext {
  return { covers: (dot) => change.writes.some((write) => write.dot.seq === dot.seq && write.dot.node === dot.node) };
}

function itemsContext(items: ReadonlyArray<readonly [string, readonly Dot[]]>): CausalContext {
  return { covers: (dot) => items.some(([, dots]) => dots.some((d) => d.seq === dot.seq && d.node === dot.node)) };
}

/**
 * Why a write dated too far ahead is refused, in words a person can act on: nothing is wrong with
 * the data, one of two clocks is (a device set to the wrong date, or a wrong time zone setting).
 */
function clockProblem(ms: number, node: string, wallMs: number, maxDriftMs: number): string {
  const minutes = (value: number) => `${Math.round(value / 60_000)} min`;
  return (
    `timestamp ${ms} of a write by ${node} is ${minutes(ms - wallMs)} ahead of this clock (at most ${minutes(maxDriftMs)} allowed): ` +
    `the date or time of this device or of that one is wrong; correct it and the change is taken`
  );
}
