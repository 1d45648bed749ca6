import { expect } from 'chai';
import { DomainModel, ValidationError, attributeChangedEvents, changedOids } from '../../src/domain/index.js';
import type { ModelChangedDetail } from '../../src/domain/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { canonical, library, librarySchema } from './library-schema.js';

function expectValidationError(action: () => unknown, concept: string | undefined, attribute: string | undefined, rule: string) {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    const e = error as ValidationError;
    expect([e.concept, e.attribute, e.rule]).to.deep.equal([concept, attribute, rule]);
    expect(e.message).to.include(rule);
    return;
  }
  expect.fail(`expected a ValidationError (${rule})`);
}

describe('DomainModel: local operations', () => {
  it('creates entities with defaults and one dot per written attribute', () => {
    const model = library('alice');
    const author = model.create('Author', { name: 'Ada' });
    expect(author.oid).to.equal('alice-1');
    expect(author.concept).to.equal('Author');
    expect(author.attributes()).to.deep.equal({ name: 'Ada', books: 0, active: true });
    expect(model.version.toJSON()).to.deep.equal({ alice: 3 });
    expect(model.get('alice-1')).to.equal(author);
  });

  it('an entity created without values still exists everywhere', () => {
    const alice = library('alice');
    const bob = library('bob');
    const schemaless = new DomainModel({
      modelId: 'tags',
      nodeId: 'alice',
      schema: { concepts: { Tag: { attributes: { label: { type: 'string' } } } } },
    });
    const tag = schemaless.create('Tag');
    expect(schemaless.get(tag.oid)).to.equal(tag);
    const other = new DomainModel({ modelId: 'tags', nodeId: 'bob', schema: schemaless.schema });
    other.applyChanges(schemaless.getDelta(other.version));
    expect(other.entities('Tag').count).to.equal(1);
    expect(alice.modelId).to.equal(bob.modelId);
  });

  it('refuses invalid values naming concept, attribute and rule, and changes nothing', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada', email: 'ada@example.org', code: 'A1' });
    model.create('Book', { title: 'Notes', author: ada.oid });
    const before = canonical(model);
    expectValidationError(() => model.create('Author', {}), 'Author', 'name', 'required');
    expectValidationError(() => model.create('Author', { name: '' }), 'Author', 'name', 'min');
    expectValidationError(() => model.create('Author', { name: 'x'.repeat(101) }), 'Author', 'name', 'max');
    expectValidationError(() => model.create('Author', { name: 'x'.repeat(1001) }), 'Author', 'name', 'type');
    expectValidationError(() => model.create('Author', { name: 'B', rating: 6 }), 'Author', 'rating', 'max');
    expectValidationError(() => model.create('Author', { name: 'B', rating: '5' as unknown as number }), 'Author', 'rating', 'type');
    expectValidationError(() => model.create('Author', { name: 'B', books: 1.5 }), 'Author', 'books', 'type');
    expectValidationError(() => model.create('Author', { name: 'B', born: 'yesterday' }), 'Author', 'born', 'type');
    expectValidationError(() => model.create('Author', { name: 'B', email: 'not-an-email' }), 'Author', 'email', 'pattern');
    expectValidationError(() => model.create('Author', { name: 'B', email: 'ada@example.org' }), 'Author', 'email', 'unique');
    expectValidationError(() => model.create('Author', { name: 'B', stamp: '2024-01-01' }), 'Author', 'stamp', 'managed');
    expectValidationError(() => model.create('Author', { name: 'B', nickname: 'x' }), 'Author', 'nickname', 'unknown');
    expectValidationError(() => model.create('Book', { title: 'T', genre: 'drama' }), 'Book', 'genre', 'type');
    expectValidationError(() => model.create('Book', { title: 'T', author: 'nobody' }), 'Book', 'author', 'reference');
    expectValidationError(() => model.create('Shelf', {}), 'Shelf', undefined, 'unknown');
    expectValidationError(() => model.create('Author', { name: 'C' }, { oid: ada.oid }), 'Author', undefined, 'exists');
    expectValidationError(() => model.update(ada.oid, { code: 'A2' }), 'Author', 'code', 'immutable');
    expectValidationError(() => ada.setAttribute('name', null), 'Author', 'name', 'required');
    // A valid value next to an invalid one is not written either.
    expectValidationError(() => model.update(ada.oid, { rating: 4, books: -1 }), 'Author', 'books', 'min');
    expect(canonical(model)).to.equal(before);
  });

  it('updates only what changed, and setAttribute is update', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada' });
    const seq = model.version.get(model.nodeId);
    model.update(ada.oid, { name: 'Ada', rating: 4.5 });
    expect(model.version.get(model.nodeId)).to.equal(seq + 1);
    ada.setAttribute('name', 'Ada Lovelace');
    expect(ada.getAttribute('name')).to.equal('Ada Lovelace');
    ada.setAttribute('rating', null);
    expect(ada.getAttribute('rating')).to.equal(null);
    expect(() => ada.getAttribute('nope')).to.throw(ValidationError);
  });

  it('unique values are free again once their holder is deleted or changed', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada', email: 'a@x.org' });
    ada.setAttribute('email', 'b@x.org');
    model.create('Author', { name: 'Other', email: 'a@x.org' });
    ada.delete();
    model.create('Author', { name: 'Third', email: 'b@x.org' });
    expect(model.findBy('Author', 'email', 'b@x.org').map((e) => e.getAttribute('name'))).to.deep.equal(['Third']);
    // A deleted entity keeps its values: looked up with includeDeleted, it is found by them.
    expect(model.findBy('Author', 'email', 'b@x.org', { includeDeleted: true }).map((e) => e.getAttribute('name')).sort()).to.deep.equal(['Ada', 'Third']);
  });

  it('findBy follows a reference shared by several entities as values move, are merged in and are cleared', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada' });
    const bob = model.create('Author', { name: 'Bob' });
    const titles = (author: string) => model.findBy('Book', 'author', author).map((e) => e.getAttribute('title')).sort();
    const one = model.create('Book', { title: 'One', author: ada.oid });
    const two = model.create('Book', { title: 'Two', author: ada.oid });
    const three = model.create('Book', { title: 'Three', author: ada.oid });
    expect(titles(ada.oid)).to.deep.equal(['One', 'Three', 'Two']);
    two.setAttribute('author', bob.oid);
    three.setAttribute('author', bob.oid);
    expect(titles(ada.oid)).to.deep.equal(['One']);
    expect(titles(bob.oid)).to.deep.equal(['Three', 'Two']);
    one.setAttribute('author', null);
    three.setAttribute('author', ada.oid);
    expect(titles(ada.oid)).to.deep.equal(['Three']);
    expect(titles(bob.oid)).to.deep.equal(['Two']);
    two.setAttribute('author', ada.oid);
    expect(titles(bob.oid)).to.deep.equal([]);
    const copy = library('bob');
    copy.applyChanges(model.getDelta(copy.version));
    expect(copy.findBy('Book', 'author', ada.oid).map((e) => e.getAttribute('title')).sort()).to.deep.equal(['Three', 'Two']);
    expect(copy.findBy('Book', 'author', bob.oid).count).to.equal(0);
  });

  it('managed attributes are for subclasses', () => {
    class Stamped extends DomainModel {
      stamp(oid: string) {
        this.updateManaged(oid, { stamp: new Date(this.clock.now().ms).toISOString() });
      }
    }
    const model = new Stamped({ modelId: 'library', schema: librarySchema, nodeId: 'alice', getNow: () => 0 });
    const ada = model.create('Author', { name: 'Ada' });
    model.stamp(ada.oid);
    expect(ada.getAttribute('stamp')).to.equal('1970-01-01T00:00:00.000Z');
  });

  it('delete hides the entity, refuses edits, and restore brings it back', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada' });
    expect(model.delete(ada.oid), 'the first delete deletes').to.equal(true);
    expect(model.delete(ada.oid), 'a second delete deletes').to.equal(false);
    expect(model.get(ada.oid)).to.equal(undefined);
    expect(model.get(ada.oid, { includeDeleted: true })).to.equal(ada);
    expect(model.entities('Author').count).to.equal(0);
    expect(ada.isDeleted, 'isDeleted after delete').to.equal(true);
    expectValidationError(() => ada.setAttribute('name', 'X'), 'Author', undefined, 'deleted');
    expectValidationError(() => model.create('Book', { title: 'T', author: ada.oid }), 'Book', 'author', 'reference');
    expect(model.restore(ada.oid), 'the first restore restores').to.equal(true);
    expect(model.restore(ada.oid), 'a second restore restores').to.equal(false);
    expect(model.get(ada.oid)?.getAttribute('name')).to.equal('Ada');
    expectValidationError(() => model.delete('missing'), undefined, undefined, 'exists');
  });

  it('child relations hold live entities of the declared concept', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada' });
    const b1 = model.create('Book', { title: 'One' });
    const b2 = model.create('Book', { title: 'Two' });
    expect(ada.addChild('works', b2), 'adding a new child by entity adds it').to.equal(true);
    expect(ada.addChild('works', b1.oid), 'adding a new child by oid adds it').to.equal(true);
    expect(ada.addChild('works', b1.oid), 'adding a child again adds it').to.equal(false);
    expect(ada.childOids('works')).to.deep.equal([b1.oid, b2.oid].sort());
    expect(ada.getChild('works').map((b) => b.getAttribute('title'))).to.deep.equal(['One', 'Two']);
    expectValidationError(() => ada.addChild('works', ada.oid), 'Author', 'works', 'reference');
    expectValidationError(() => ada.addChild('fans', b1.oid), 'Author', 'fans', 'unknown');
    b2.delete();
    expect(ada.getChild('works').count).to.equal(1);
    expect(ada.removeChild('works', b1), 'removing a child removes it').to.equal(true);
    expect(ada.removeChild('works', b1), 'removing it again removes it').to.equal(false);
    expect(ada.childOids('works')).to.deep.equal([b2.oid]);
  });

  it('Entities: find by oid, filter, sort, count, iterate', () => {
    const model = library('alice');
    for (const [name, rating] of [['Cy', 3], ['Ada', 5], ['Bo', 1], ['Di', null]] as const) model.create('Author', { name, rating });
    const authors = model.entities('Author');
    expect(authors.count).to.equal(4);
    expect(authors.get('alice-1')?.getAttribute('name')).to.equal('Cy');
    expect(authors.has('nope'), "has('nope')").to.equal(false);
    expect(authors.sortBy('name').map((a) => a.getAttribute('name'))).to.deep.equal(['Ada', 'Bo', 'Cy', 'Di']);
    expect(authors.sortBy('rating', 'desc').map((a) => a.getAttribute('name'))).to.deep.equal(['Ada', 'Cy', 'Bo', 'Di']);
    expect(authors.filter((a) => (a.getAttribute('rating') as number) > 2).count).to.equal(2);
    expect([...authors].length).to.equal(4);
    expect(authors.find((a) => a.getAttribute('name') === 'Bo')?.oid).to.equal(authors.toArray()[2]!.oid);
    expect(authors.first()?.getAttribute('name')).to.equal('Cy');
  });

  it('tells listeners about local changes, with attribute events derivable', () => {
    const clock = fakeClock(5000);
    const model = library('alice', clock);
    const seen: ModelChangedDetail[] = [];
    const stop = model.onChange((detail) => seen.push(detail));
    const ada = model.create('Author', { name: 'Ada' });
    ada.setAttribute('rating', 4);
    stop();
    ada.setAttribute('rating', 5);
    expect(seen).to.have.length(2);
    expect(seen[0]!.origin).to.equal('local');
    expect(seen[0]!.nodeId).to.equal('alice');
    expect([...changedOids(seen[0]!)]).to.deep.equal([ada.oid]);
    expect(attributeChangedEvents(seen[1]!)).to.deep.equal([
      { entityId: ada.oid, attributeName: 'rating', newValue: 4, timestamp: 5000, nodeId: 'alice' },
    ]);
  });

  it('says how each ordinary local operation is taken back, and nothing for managed writes', () => {
    const model = library('alice');
    const undos: unknown[] = [];
    model.onChange((detail) => undos.push(detail.undo));
    const ada = model.create('Author', { name: 'Ada' });
    const book = model.create('Book', { title: 'Notes' });
    model.update(ada.oid, { name: 'Ada L.', rating: 4 });
    model.addChild(ada.oid, 'works', book.oid);
    model.removeChild(ada.oid, 'works', book.oid);
    model.delete(book.oid);
    model.restore(book.oid);
    expect(undos).to.deep.equal([
      { kind: 'delete', oid: ada.oid, created: true },
      { kind: 'delete', oid: book.oid, created: true },
      { kind: 'update', oid: ada.oid, values: { name: 'Ada', rating: null } },
      { kind: 'remove-child', oid: ada.oid, relation: 'works', child: book.oid },
      { kind: 'add-child', oid: ada.oid, relation: 'works', child: book.oid },
      { kind: 'restore', oid: book.oid },
      { kind: 'delete', oid: book.oid },
    ]);

    class Stamping extends DomainModel {
      stamp(oid: string): void {
        this.updateManaged(oid, { stamp: '2024-01-01' });
      }
    }
    const stamping = new Stamping({ modelId: 'library', schema: librarySchema, nodeId: 'bob' });
    const bo = stamping.create('Author', { name: 'Bo' });
    const seen: ModelChangedDetail[] = [];
    stamping.onChange((detail) => seen.push(detail));
    stamping.stamp(bo.oid);
    expect(seen.map((detail) => [detail.origin, detail.undo])).to.deep.equal([['local', undefined]]);
  });

  it('a throwing listener does not break the model or other listeners', () => {
    const errors: unknown[] = [];
    const model = new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: 'alice', onListenerError: (e) => errors.push(e) });
    const calls: string[] = [];
    model.onChange(() => {
      throw new Error('listener bug');
    });
    model.onChange(() => calls.push('second'));
    model.create('Author', { name: 'Ada' });
    expect(calls).to.deep.equal(['second']);
    expect(model.entities('Author').count).to.equal(1);
    expect((errors[0] as Error).message).to.equal('listener bug');
  });

  it('never reuses a sequence number: firstSeq and markOwnSequenceUsedUpTo', () => {
    const model = new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: 'alice', firstSeq: 101 });
    const ada = model.create('Author', { name: 'Ada', rating: 1 });
    expect(ada.version.toJSON()).to.deep.equal({ alice: [0, 101, 102, 103, 104] });
    model.markOwnSequenceUsedUpTo(200);
    expect(model.version.toJSON()).to.deep.equal({ alice: 200 });
    ada.setAttribute('rating', 2);
    expect(model.version.toJSON()).to.deep.equal({ alice: 201 });
    expect(model.nextSeq).to.equal(202);
  });

  it('validate reports domain rules broken by merged state', () => {
    const model = library('alice');
    const ada = model.create('Author', { name: 'Ada', email: 'a@x.org' });
    const book = model.create('Book', { title: 'T', author: ada.oid });
    expect(model.validate()).to.deep.equal([]);
    ada.delete();
    expect(model.validate()).to.deep.equal([
      { concept: 'Book', oid: book.oid, attribute: 'author', rule: 'reference', detail: `"${ada.oid}" is not a live Author` },
    ]);
  });

  it('refuses bad configuration', () => {
    expect(() => new DomainModel({ modelId: 'bad id!', schema: librarySchema, nodeId: 'a' })).to.throw(/model id/);
    expect(() => new DomainModel({ modelId: 'm', schema: librarySchema, nodeId: 'a:b' })).to.throw(/node id/);
    expect(() => new DomainModel({ modelId: 'm', schema: librarySchema, nodeId: 'a', firstSeq: 0 })).to.throw(/firstSeq/);
  });
});
