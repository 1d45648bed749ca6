import { AWSet, type Dot, LWWRegister, VersionVector, compareWrites } from '../crdt/index.js';
import type { CRDTEntity } from './crdt-entity.js';
import { type ConceptSchema, DELETED } from './domain-schema.js';
import type { AttributeValue, AttributeWrite, ChildrenChange, Conflict, EntityState, ModelChange } from './model-change.js';

/**
 * The replicated state of one entity, owned by a `DomainModel`: a register per written attribute
 * (plus the reserved `$deleted`) and an add-wins set per child relation. Internal to the domain
 * layer; applications see it through `CRDTEntity`.
 */
export class EntityRecord {
  readonly registers = new Map<string, LWWRegister<AttributeValue>>();
  readonly relations = new Map<string, AWSet<string>>();
  /** The one `CRDTEntity` handle of this entity, made on first use. */
  handle: CRDTEntity | undefined;
  /** This entity's hash as the model's `StateDigest` last counted it (both 0: not counted). */
  digestHi = 0;
  digestLo = 0;

  constructor(
    readonly oid: string,
    readonly concept: ConceptSchema,
  ) {}

  /** True while the winning `$deleted` write says so. */
  get deleted(): boolean {
    return this.registers.get(DELETED)?.value === true;
  }

  /** The shown value of an attribute (undefined if never written). */
  value(attribute: string): AttributeValue | undefined {
    return this.registers.get(attribute)?.value;
  }

  /** The register of an attribute, created empty if missing. */
  register(attribute: string): LWWRegister<AttributeValue> {
    let register = this.registers.get(attribute);
    if (!register) this.registers.set(attribute, (register = new LWWRegister()));
    return register;
  }

  /** The set of a child relation, created empty if missing. */
  relation(name: string): AWSet<string> {
    let set = this.relations.get(name);
    if (!set) this.relations.set(name, (set = new AWSet()));
    return set;
  }

  /** True if the record holds anything at all. */
  isEmpty(): boolean {
    for (const register of this.registers.values()) if (!register.isEmpty()) return false;
    for (const set of this.relations.values()) if (set.size || set.removals().length) return false;
    return true;
  }

  /**
   * Current conflicts. A live entity reports each register holding concurrent writes. A deleted
   * entity reports one `$deleted` conflict if the delete met a concurrent restore, or if writes
   * with timestamps after the delete exist: local edits of deleted entities are refused, so such a
   * write can only have been made concurrently, by a replica that had not seen the delete.
   */
  conflicts(): Conflict[] {
    const entityType = this.concept.name;
    if (this.deleted) {
      const deletion = this.registers.get(DELETED)!;
      const winner = deletion.winner!;
      const concurrentEdits: Array<{ attribute: string; write: AttributeWrite }> = [];
      for (const [attribute, register] of this.registers) {
        if (attribute === DELETED) continue;
        for (const write of register.writes) if (compareWrites(write, winner) > 0) concurrentEdits.push({ attribute, write });
      }
      if (!deletion.hasConflicts && !concurrentEdits.length) return [];
      return [{ entityType, oid: this.oid, attribute: DELETED, winner, losers: deletion.conflicts, concurrentEdits }];
    }
    const conflicts: Conflict[] = [];
    for (const [attribute, register] of this.registers)
      if (register.hasConflicts) conflicts.push({ entityType, oid: this.oid, attribute, winner: register.winner!, losers: register.conflicts });
    return conflicts;
  }

  /** True if `conflicts()` is not empty (cheaper). */
  hasConflicts(): boolean {
    if (!this.deleted) {
      for (const register of this.registers.values()) if (register.hasConflicts) return true;
      return false;
    }
    return this.conflicts().length > 0;
  }

  /** The dots held in this entity's state (not a causal context: removals leave no dot here). */
  heldDots(): VersionVector {
    const held = new VersionVector();
    for (const register of this.registers.values()) for (const write of register.writes) held.add(write.dot);
    for (const set of this.relations.values()) for (const [, dots] of set.entries()) for (const dot of dots) held.add(dot);
    return held;
  }

  /** The state in canonical form: names sorted, children sorted, empty registers and sets left out. */
  toState(): EntityState {
    const attributes: Record<string, readonly AttributeWrite[]> = {};
    for (const name of [...this.registers.keys()].sort()) {
      const writes = this.registers.get(name)!.writes;
      if (writes.length) attributes[name] = writes;
    }
    const children: Record<string, ReadonlyArray<readonly [string, readonly Dot[]]>> = {};
    const removals: Record<string, readonly Dot[]> = {};
    let marked = false;
    for (const name of [...this.relations.keys()].sort()) {
      const set = this.relations.get(name)!;
      const marks = set.removals();
      if (set.size) children[name] = sortedItems(set);
      if (marks.length) {
        removals[name] = marks;
        marked = true;
      }
    }
    const state = { entityType: this.concept.name, oid: this.oid, attributes, children };
    return marked ? { ...state, removals } : state;
  }

  /** The whole state of one relation as a change. */
  childrenChange(relation: string): ChildrenChange {
    const set = this.relations.get(relation) ?? new AWSet<string>();
    const removals = set.removals();
    return {
      kind: 'children',
      entityType: this.concept.name,
      oid: this.oid,
      relation,
      items: sortedItems(set),
      ...(removals.length ? { removals } : {}),
    };
  }
}

/** An entity state as the changes that carry it: one per register, one per relation. */
export function stateToChanges(state: EntityState): ModelChange[] {
  const { entityType, oid } = state;
  const changes: ModelChange[] = [];
  for (const [attribute, writes] of Object.entries(state.attributes)) changes.push({ kind: 'attribute', entityType, oid, attribute, writes });
  const relations = new Set([...Object.keys(state.children), ...Object.keys(state.removals ?? {})]);
  for (const relation of relations) {
    const items = Object.hasOwn(state.children, relation) ? state.children[relation]! : [];
    const removals = state.removals && Object.hasOwn(state.removals, relation) ? state.removals[relation]! : [];
    changes.push({ kind: 'children', entityType, oid, relation, items, ...(removals.length ? { removals } : {}) });
  }
  return changes;
}

function sortedItems(set: AWSet<string>): Array<readonly [string, readonly Dot[]]> {
  return [...set.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
