import type { AttributeSchema } from './domain-schema.js';
import { EntityRecord } from './entity-record.js';
import type { AttributeValue } from './model-change.js';

const NONE: readonly EntityRecord[] = [];

// Most indexed values are held by one entity (unique attributes, most references): that entity
// is stored alone, and a set is made only for a value two entities hold. A set per value would
// be 10,000 sets for 10,000 voter numbers, made on every load.
type Holders = EntityRecord | Set<EntityRecord>;

/**
 * Value → entities index for unique attributes and references, kept up to date on every write
 * and merge, so uniqueness checks and "who references X" never scan the model. Deleted entities
 * stay indexed (a restore brings them back); callers filter them.
 */
export class AttributeIndex {
  readonly #byAttribute = new Map<AttributeSchema, Map<AttributeValue, Holders>>();

  /** Moves `record` from `before` to `after` in the index of `attribute`. */
  update(attribute: AttributeSchema, record: EntityRecord, before: AttributeValue | undefined, after: AttributeValue | undefined): void {
    if (before === after) return;
    let index = this.#byAttribute.get(attribute);
    if (!index) this.#byAttribute.set(attribute, (index = new Map()));
    if (before !== undefined && before !== null) {
      const holders = index.get(before);
      if (holders === record) index.delete(before);
      else if (holders instanceof Set && holders.delete(record)) {
        if (holders.size === 1) index.set(before, holders.values().next().value!);
        else if (holders.size === 0) index.delete(before);
      }
    }
    if (after !== undefined && after !== null) {
      const holders = index.get(after);
      if (holders === undefined) index.set(after, record);
      else if (holders instanceof Set) holders.add(record);
      else if (holders !== record) index.set(after, new Set([holders, record]));
    }
  }

  /** Entities whose `attribute` currently shows `value`. */
  lookup(attribute: AttributeSchema, value: AttributeValue): Iterable<EntityRecord> {
    const holders = this.#byAttribute.get(attribute)?.get(value);
    return holders === undefined ? NONE : holders instanceof EntityRecord ? [holders] : holders;
  }
}
