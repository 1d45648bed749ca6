import type { VersionVector } from '../crdt/index.js';
import { ValidationError } from './attribute-rules.js';
import type { DomainModel } from './domain-model.js';
import { Entities } from './entities.js';
import type { EntityRecord } from './entity-record.js';
import type { AttributeValue, Conflict, EntityState } from './model-change.js';

/**
 * The seed's `CRDTEntity`: one entity of a `DomainModel`. Each attribute is an `LWWRegister`, each
 * child relation an `AWSet` of child oids. A live view: reads show the current merged state, and
 * writes go through the model, which validates them, stamps them and tells listeners.
 */
export class CRDTEntity {
  readonly #model: DomainModel;
  readonly #record: EntityRecord;

  /** Made by the model; use `model.create` or `model.get`. */
  constructor(model: DomainModel, record: EntityRecord) {
    this.#model = model;
    this.#record = record;
  }

  /** The entity's id, unique in the model. */
  get oid(): string {
    return this.#record.oid;
  }

  /** The concept (entity type) name. */
  get concept(): string {
    return this.#record.concept.name;
  }

  /** True if deleted (and not restored). */
  get isDeleted(): boolean {
    return this.#record.deleted;
  }

  /** The shown value of a declared attribute; undefined if never written. */
  getAttribute(name: string): AttributeValue | undefined {
    if (!this.#record.concept.attributes.has(name)) throw new ValidationError(this.concept, name, 'unknown', 'no such attribute');
    return this.#record.value(name);
  }

  /** Writes an attribute; throws `ValidationError` (and changes nothing) if the value breaks a rule. */
  setAttribute(name: string, value: AttributeValue): void {
    this.#model.update(this.oid, { [name]: value });
  }

  /** Every written attribute with its shown value. */
  attributes(): Record<string, AttributeValue> {
    const values: Record<string, AttributeValue> = {};
    for (const name of this.#record.concept.attributes.keys()) {
      const value = this.#record.value(name);
      if (value !== undefined) values[name] = value;
    }
    return values;
  }

  /** The live child entities of a relation, sorted by oid. Children not (yet) known here are left out. */
  getChild(relation: string): Entities {
    const found: CRDTEntity[] = [];
    for (const oid of this.childOids(relation)) {
      const child = this.#model.get(oid);
      if (child) found.push(child);
    }
    return new Entities(found);
  }

  /** The oids in a relation, sorted. */
  childOids(relation: string): string[] {
    if (!this.#record.concept.children.has(relation)) throw new ValidationError(this.concept, relation, 'unknown', 'no such relation');
    const set = this.#record.relations.get(relation);
    return set ? [...set.values()].sort() : [];
  }

  /** Adds a child; false if it was already there. */
  addChild(relation: string, child: string | CRDTEntity): boolean {
    return this.#model.addChild(this.oid, relation, typeof child === 'string' ? child : child.oid);
  }

  /** Removes a child; false if it was not there. */
  removeChild(relation: string, child: string | CRDTEntity): boolean {
    return this.#model.removeChild(this.oid, relation, typeof child === 'string' ? child : child.oid);
  }

  /** Deletes the entity (see `DomainModel.delete`). */
  delete(): boolean {
    return this.#model.delete(this.oid);
  }

  /** Restores a deleted entity. */
  restore(): boolean {
    return this.#model.restore(this.oid);
  }

  /** This entity's current conflicts. */
  get conflicts(): Conflict[] {
    return this.#record.conflicts();
  }

  /** The dots held in this entity's state. */
  get version(): VersionVector {
    return this.#record.heldDots();
  }

  /**
   * Joins another replica's copy of this entity, using that replica's version as its causal
   * context. Returns true if anything changed. Throws if `other` is a different entity.
   */
  mergeWith(other: CRDTEntity): boolean {
    if (other.oid !== this.oid) throw new Error(`cannot merge ${other.oid} into ${this.oid}`);
    return this.#model.mergeEntity(other.toState(), other.#model.version);
  }

  /** The entity's state, canonical. */
  toState(): EntityState {
    return this.#record.toState();
  }
}
