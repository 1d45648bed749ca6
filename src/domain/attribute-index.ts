import type { AttributeSchema } from './domain-schema.js';
import type { EntityRecord } from './entity-record.js';
import type { AttributeValue } from './model-change.js';

const NONE: ReadonlySet<EntityRecord> = new Set();

/**
 * Value → entities index for unique attributes and references, kept up to date on every write
 * and merge, so uniqueness checks and "who references X" never scan the model. Deleted entities
 * stay indexed (a restore brings them back); callers filter them.
 */
export class AttributeIndex {
  readonly #byAttribute = new Map<AttributeSchema, Map<AttributeValue, Set<EntityRecord>>>();

  /** Moves `record` from `before` to `after` in the index of `attribute`. */
  update(attribute: AttributeSchema, record: EntityRecord, before: AttributeValue | undefined, after: AttributeValue | undefined): void {
    if (before === after) return;
    let index = this.#byAttribute.get(attribute);
    if (!index) this.#byAttribute.set(attribute, (index = new Map()));
    if (before !== undefined && before !== null) {
      const holders = index.get(before);
      holders?.delete(record);
      if (holders?.size === 0) index.delete(before);
    }
    if (after !== undefined && after !== null) {
      let holders = index.get(after);
      if (!holders) index.set(after, (holders = new Set()));
      holders.add(record);
    }
  }

  /** Entities whose `attribute` currently shows `value`. */
  lookup(attribute: AttributeSchema, value: AttributeValue): ReadonlySet<EntityRecord> {
    return this.#byAttribute.get(attribute)?.get(value) ?? NONE;
  }
}
