import type { CRDTEntity } from './crdt-entity.js';

/** The seed's `Entities`: an immutable list of entities with lookup by oid, filtering and sorting. */
export class Entities implements Iterable<CRDTEntity> {
  readonly #items: readonly CRDTEntity[];
  #byOid: Map<string, CRDTEntity> | undefined;

  constructor(items: Iterable<CRDTEntity> = []) {
    this.#items = [...items];
  }

  /** Number of entities. */
  get count(): number {
    return this.#items.length;
  }

  /** The entity with this oid, if listed. */
  get(oid: string): CRDTEntity | undefined {
    this.#byOid ??= new Map(this.#items.map((entity) => [entity.oid, entity]));
    return this.#byOid.get(oid);
  }

  /** True if the entity with this oid is listed. */
  has(oid: string): boolean {
    return this.get(oid) !== undefined;
  }

  /** The first entity, if any. */
  first(): CRDTEntity | undefined {
    return this.#items[0];
  }

  /** The first entity matching `predicate`. */
  find(predicate: (entity: CRDTEntity) => boolean): CRDTEntity | undefined {
    return this.#items.find(predicate);
  }

  /** The entities matching `predicate`. */
  filter(predicate: (entity: CRDTEntity) => boolean): Entities {
    return new Entities(this.#items.filter(predicate));
  }

  /** Sorted by `compare`. */
  sort(compare: (a: CRDTEntity, b: CRDTEntity) => number): Entities {
    return new Entities([...this.#items].sort(compare));
  }

  /** Sorted by one attribute's value (absent values last), ties by oid so the order is stable everywhere. */
  sortBy(attribute: string, direction: 'asc' | 'desc' = 'asc'): Entities {
    const sign = direction === 'asc' ? 1 : -1;
    return this.sort((a, b) => {
      const x = a.getAttribute(attribute);
      const y = b.getAttribute(attribute);
      const xMissing = x === undefined || x === null;
      const yMissing = y === undefined || y === null;
      if (xMissing || yMissing) return xMissing === yMissing ? compareOids(a, b) : xMissing ? 1 : -1;
      return sign * compareValues(x, y) || compareOids(a, b);
    });
  }

  /** Maps every entity. */
  map<T>(project: (entity: CRDTEntity) => T): T[] {
    return this.#items.map(project);
  }

  /** A plain array copy. */
  toArray(): CRDTEntity[] {
    return [...this.#items];
  }

  [Symbol.iterator](): Iterator<CRDTEntity> {
    return this.#items[Symbol.iterator]();
  }
}

function compareOids(a: CRDTEntity, b: CRDTEntity): number {
  return a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0;
}

function compareValues(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
