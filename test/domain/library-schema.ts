import { DomainModel, defineSchema } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';

/** A small declared model exercising every attribute type and option. */
export const librarySchema = defineSchema({
  concepts: {
    Author: {
      attributes: {
        name: { type: 'string', required: true, min: 1, max: 100 },
        email: { type: 'string', unique: true, pattern: '^[^@\\s]+@[^@\\s]+$', format: 'an email address' },
        born: { type: 'date' },
        rating: { type: 'number', min: 0, max: 5 },
        books: { type: 'integer', min: 0, default: 0 },
        active: { type: 'boolean', default: true },
        code: { type: 'string', immutable: true },
        stamp: { type: 'date', managed: true },
      },
      children: { works: { concept: 'Book' } },
    },
    Book: {
      attributes: {
        title: { type: 'string', required: true },
        genre: { type: 'enum', values: ['novel', 'poetry', 'essay'], default: 'novel' },
        author: { type: 'reference', concept: 'Author' },
      },
    },
  },
  maxStringLength: 1000,
});

/** A library model for `node` with a fake clock and predictable ids (`<node>-1`, `<node>-2`, …). */
export function library(node: string, clock = fakeClock()): DomainModel {
  let n = 0;
  return new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: node, getNow: clock.now, newId: () => `${node}-${++n}` });
}

/** Sends everything `to` lacks from `from`, the way the sync engine does. */
export function sync(from: DomainModel, to: DomainModel) {
  return to.applyChanges(from.getDelta(to.version));
}

/** Canonical text of a model's state, for equality checks. */
export function canonical(model: DomainModel): string {
  return JSON.stringify(model.getSnapshot());
}

/** Alice and Bob on one clock, Bob holding the author Ada that Alice created and synced to him. */
export function aliceAndBobWithAda(clock = fakeClock()) {
  const alice = library('alice', clock);
  const bob = library('bob', clock);
  const ada = alice.create('Author', { name: 'Ada' });
  sync(alice, bob);
  return { alice, bob, ada };
}
