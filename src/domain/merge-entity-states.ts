import { AWSet, type VersionVector, joinWrites } from '../crdt/index.js';
import type { AttributeWrite, EntityState } from './model-change.js';

/**
 * The pure join of two states of one entity, each with the version vector of the replica that
 * held it (as stored, say, by two tabs). The same dot-store join as the model's merges, so it is
 * commutative, associative and idempotent; the result is canonical (names and children sorted).
 * Throws if the states are of different entities (a programmer error).
 */
export function mergeEntityStates(a: EntityState, aVersion: VersionVector, b: EntityState, bVersion: VersionVector): EntityState {
  if (a.oid !== b.oid || a.entityType !== b.entityType)
    throw new Error(`cannot merge ${b.entityType} ${b.oid} into ${a.entityType} ${a.oid}`);
  const attributes: Record<string, readonly AttributeWrite[]> = {};
  for (const name of unionOfKeys(a.attributes, b.attributes)) {
    const writes = joinWrites(own(a.attributes, name) ?? [], aVersion, own(b.attributes, name) ?? [], bVersion);
    if (writes.length) attributes[name] = writes;
  }
  const children: Record<string, EntityState['children'][string]> = {};
  const removals: Record<string, NonNullable<EntityState['removals']>[string]> = {};
  let marked = false;
  for (const name of unionOfKeys(a.children, b.children, a.removals ?? {}, b.removals ?? {})) {
    const left = new AWSet<string>({ items: own(a.children, name) ?? [], removals: own(a.removals ?? {}, name) ?? [] });
    const right = new AWSet<string>({ items: own(b.children, name) ?? [], removals: own(b.removals ?? {}, name) ?? [] });
    left.join({ items: right.entries(), removals: right.removals() }, aVersion, bVersion);
    if (left.size) children[name] = [...left.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    const marks = left.removals();
    if (marks.length) {
      removals[name] = marks;
      marked = true;
    }
  }
  const state = { entityType: a.entityType, oid: a.oid, attributes, children };
  return marked ? { ...state, removals } : state;
}

function unionOfKeys(...records: ReadonlyArray<Readonly<Record<string, unknown>>>): string[] {
  return [...new Set(records.flatMap((record) => Object.keys(record)))].sort();
}

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
