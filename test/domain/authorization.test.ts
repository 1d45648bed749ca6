import { expect } from 'chai';
import {
  type AttributeValue,
  DomainModel,
  type ModelChange,
  ValidationError,
  deviceOf,
  ownedOid,
  ownerOf,
} from '../../src/domain/index.js';
import type { NodeId } from '../../src/crdt/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { canonical, librarySchema, sync } from './library-schema.js';

// Node ids built like a room session's: a 32-character device id and 8 characters per tab.
const device = (letter: string) => letter.repeat(32);
const ALICE = device('a');
const MALLORY = device('m');
const aliceTab = `${ALICE}tab00001`;
const aliceOtherTab = `${ALICE}tab00002`;
const malloryTab = `${MALLORY}tab00001`;

/** Authors are owned by the device in their oid; books are open to everyone. */
class OwnedLibrary extends DomainModel {
  readonly asked: Array<[string, string, string]> = [];

  constructor(nodeId: string, clock = fakeClock()) {
    super({ modelId: 'library', schema: librarySchema, nodeId, getNow: clock.now });
  }

  protected override authorizationProblem(concept: string, oid: string, author: NodeId): string | undefined {
    this.asked.push([concept, oid, author]);
    if (concept !== 'Author' || ownerOf(oid) === deviceOf(author)) return undefined;
    return `author ${oid} belongs to device ${ownerOf(oid) ?? 'none'}, not to ${deviceOf(author) ?? author}`;
  }

  protected override newOid(concept: string): string {
    return concept === 'Author' ? ownedOid(this.nodeId) : super.newOid(concept);
  }
}

const write = (value: AttributeValue, node: string, seq: number) => ({ value, ts: { ms: 1_700_000_000_000, c: 0 }, dot: { node: node as NodeId, seq } });

function expectRefused(action: () => unknown): void {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).rule, (error as Error).message).to.equal('owner');
    return;
  }
  expect.fail('expected a ValidationError');
}

describe('ownership', () => {
  it('takes the device id from node ids and owned oids, and nothing from short ones', () => {
    expect(deviceOf(aliceTab)).to.equal(ALICE);
    expect(deviceOf(ALICE)).to.equal(ALICE);
    expect(deviceOf('alice')).to.equal(undefined);
    const oid = ownedOid(aliceTab);
    expect(oid).to.have.length(53).and.match(/^[A-Za-z0-9_-]+$/);
    expect(ownerOf(oid)).to.equal(ALICE);
    expect(ownedOid(aliceTab)).to.not.equal(oid);
    expect(ownerOf('V1StGXR8_Z5jdHi6B-myT')).to.equal(undefined);
    expect(ownerOf(`${ALICE}x`)).to.equal(undefined);
    expect(() => ownedOid('alice')).to.throw(/device id/);
    expect(() => ownedOid(aliceTab, 'short')).to.throw(/21/);
  });
});

describe('DomainModel: authorization of authors', () => {
  it('refuses a remote write by a device that does not own the entity: reported, nothing altered, version not adopted', () => {
    const alice = new OwnedLibrary(aliceTab);
    const bob = new OwnedLibrary(device('b') + 'tab00001');
    const author = alice.create('Author', { name: 'Alice' });
    sync(alice, bob);
    const mallory = new OwnedLibrary(malloryTab);
    sync(alice, mallory);
    // Mallory's own replica runs without the rule, as a hostile one would.
    const forged: ModelChange = { kind: 'attribute', entityType: 'Author', oid: author.oid, attribute: 'name', writes: [write('Mallory', malloryTab, 1)] };
    const before = canonical(bob);
    const versionBefore = JSON.stringify(bob.version.toJSON());
    const result = bob.applyChanges({ format: 1, modelId: 'library', since: {}, version: { [malloryTab]: 1, [aliceTab]: alice.version.maxSeen(aliceTab as NodeId) }, changes: [forged] });
    expect(result.applied).to.equal(0);
    expect(result).to.include({ complete: false });
    expect(result.rejected).to.have.length(1);
    expect(result.rejected[0]!.reason).to.match(new RegExp(`belongs to device ${ALICE}, not to ${MALLORY}`));
    expect(canonical(bob)).to.equal(before);
    expect(JSON.stringify(bob.version.toJSON())).to.equal(versionBefore);
  });

  it('accepts writes by every tab of the owning device, and by anyone to open concepts', () => {
    const alice = new OwnedLibrary(aliceTab);
    const aliceToo = new OwnedLibrary(aliceOtherTab);
    const mallory = new OwnedLibrary(malloryTab);
    const author = alice.create('Author', { name: 'Alice' });
    sync(alice, aliceToo);
    aliceToo.update(author.oid, { name: 'Alice B.' });
    mallory.create('Book', { title: 'Open to all' });
    const fromTab = sync(aliceToo, alice);
    const fromMallory = sync(mallory, alice);
    expect(fromTab.rejected).to.deep.equal([]);
    expect(fromMallory.rejected).to.deep.equal([]);
    expect(alice.get(author.oid)!.getAttribute('name')).to.equal('Alice B.');
    expect(alice.entities('Book').count).to.equal(1);
  });

  it('asks once per distinct author of a change: every write of a register, every dot of a relation and its removal marks', () => {
    const bob = new OwnedLibrary(device('b') + 'tab00001');
    const oid = ownedOid(aliceTab);
    const register: ModelChange = {
      kind: 'attribute',
      entityType: 'Author',
      oid,
      attribute: 'name',
      writes: [write('A', aliceTab, 1), write('B', aliceOtherTab, 1), write('C', aliceTab, 2)],
    };
    expect(bob.applyChanges([register]).rejected).to.deep.equal([]);
    expect(bob.asked.map(([, , author]) => author)).to.deep.equal([aliceTab, aliceOtherTab]);

    const before = canonical(bob);
    const relation: ModelChange = {
      kind: 'children',
      entityType: 'Author',
      oid,
      relation: 'works',
      items: [['book-1', [{ node: aliceTab as NodeId, seq: 3 }]]],
      removals: [{ node: malloryTab as NodeId, seq: 1 }],
    };
    const result = bob.applyChanges([relation]);
    expect(result.rejected).to.have.length(1);
    expect(result.rejected[0]!.reason).to.match(/not to m{32}/);
    const add: ModelChange = { kind: 'child-add', entityType: 'Author', oid, relation: 'works', child: 'book-1', dot: { node: malloryTab as NodeId, seq: 2 } };
    expect(bob.applyChanges([add]).rejected).to.have.length(1);
    expect(canonical(bob)).to.equal(before);
  });

  it('refuses an author with a short node id, and an entity whose oid names no owner', () => {
    const bob = new OwnedLibrary(device('b') + 'tab00001');
    const short: ModelChange = { kind: 'attribute', entityType: 'Author', oid: ownedOid(aliceTab), attribute: 'name', writes: [write('A', 'alice', 1)] };
    const unowned: ModelChange = { kind: 'attribute', entityType: 'Author', oid: 'plain-oid', attribute: 'name', writes: [write('A', aliceTab, 1)] };
    const result = bob.applyChanges([short, unowned]);
    expect(result.rejected.map((r) => r.reason)).to.deep.equal([
      `author ${short.oid} belongs to device ${ALICE}, not to alice`,
      'author plain-oid belongs to device none, not to ' + ALICE,
    ]);
    expect(bob.entities('Author').count).to.equal(0);
  });

  it('refuses a snapshot holding a foreign write, and mergeEntity throws for one', () => {
    const alice = new OwnedLibrary(aliceTab);
    const author = alice.create('Author', { name: 'Alice' });
    // A replica without the rule lets Mallory write to Alice's author.
    const lax = new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: malloryTab, getNow: fakeClock().now });
    sync(alice, lax);
    lax.update(author.oid, { name: 'Mallory' });
    const bob = new OwnedLibrary(device('b') + 'tab00001');
    expect(bob.initializeFromSnapshot(lax.getSnapshot()), 'initializeFromSnapshot took a snapshot with writes the rules forbid').to.equal(false);
    expect(bob.entities('Author').count).to.equal(0);
    expect(bob.initializeFromSnapshot(alice.getSnapshot()), 'initializeFromSnapshot took a lawful snapshot').to.equal(true);
    const before = canonical(bob);
    expectRefused(() => bob.mergeEntity(lax.get(author.oid)!.toState(), lax.version));
    expect(canonical(bob)).to.equal(before);
  });

  it('does not check stored state: it is the replica\'s own', () => {
    const lax = new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: malloryTab, getNow: fakeClock().now });
    lax.create('Author', { name: 'Stored' }, { oid: ownedOid(aliceTab) });
    const bob = new OwnedLibrary(device('b') + 'tab00001');
    const result = bob.loadState(lax.getEntityStates(), lax.version);
    expect(result.rejected).to.deep.equal([]);
    expect(bob.entities('Author').count).to.equal(1);
  });

  it('refuses every local operation on an entity this device does not own before writing anything', () => {
    const alice = new OwnedLibrary(aliceTab);
    const author = alice.create('Author', { name: 'Alice' });
    const book = alice.create('Book', { title: 'B' });
    alice.addChild(author.oid, 'works', book.oid);
    const mallory = new OwnedLibrary(malloryTab);
    sync(alice, mallory);
    // A conflict on the author, between Alice's two tabs.
    const aliceToo = new OwnedLibrary(aliceOtherTab);
    sync(alice, aliceToo);
    alice.update(author.oid, { name: 'One' });
    aliceToo.update(author.oid, { name: 'Two' });
    sync(alice, mallory);
    sync(aliceToo, mallory);
    expect(mallory.conflicts).to.have.length(1);
    const ownBook = mallory.create('Book', { title: 'M' });
    const before = canonical(mallory);
    const version = JSON.stringify(mallory.version.toJSON());
    expectRefused(() => mallory.update(author.oid, { name: 'Mallory' }));
    expectRefused(() => mallory.delete(author.oid));
    expectRefused(() => mallory.removeChild(author.oid, 'works', book.oid));
    expectRefused(() => mallory.addChild(author.oid, 'works', ownBook.oid));
    expectRefused(() => mallory.create('Author', { name: 'Fake Alice' }, { oid: ownedOid(aliceTab) }));
    const conflicting = mallory.conflicts.map((c): ModelChange => ({ kind: 'attribute', entityType: c.entityType, oid: c.oid, attribute: c.attribute, writes: [c.winner] }));
    expectRefused(() => mallory.resolveConflicts(conflicting));
    expect(canonical(mallory)).to.equal(before);
    expect(JSON.stringify(mallory.version.toJSON())).to.equal(version);

    alice.delete(author.oid);
    sync(alice, mallory);
    expectRefused(() => mallory.restore(author.oid));
    // Its own author: create and edit are fine.
    const own = mallory.create('Author', { name: 'Mallory' });
    expect(ownerOf(own.oid)).to.equal(MALLORY);
    mallory.update(own.oid, { name: 'M.' });
  });

  it('leaves a model without the hook open to all, as before', () => {
    const lax = new DomainModel({ modelId: 'library', schema: librarySchema, nodeId: malloryTab, getNow: fakeClock().now });
    const oid = ownedOid(aliceTab);
    expect(lax.applyChanges([{ kind: 'attribute', entityType: 'Author', oid, attribute: 'name', writes: [write('A', aliceTab, 1)] }]).rejected).to.deep.equal([]);
    lax.update(oid, { name: 'Mallory' });
    expect(lax.get(oid)!.getAttribute('name')).to.equal('Mallory');
  });
});
