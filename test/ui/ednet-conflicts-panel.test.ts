import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import type { DomainModel } from '../../src/domain/index.js';
import '../../src/ui/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { library, sync } from '../domain/library-schema.js';
import { axeViolations, button, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';

/** Alice and Bob share an author, then both rename it while apart; `merge` brings them together. */
function concurrentRename() {
  const aliceClock = fakeClock();
  const bobClock = fakeClock();
  const alice = library('alice', aliceClock);
  const bob = library('bob', bobClock);
  const ann = alice.create('Author', { name: 'Ann', email: 'ann@example.org' }).oid;
  sync(alice, bob);
  aliceClock.advance(1_000);
  alice.update(ann, { name: 'Ann Alice' });
  bobClock.advance(2_000);
  bob.update(ann, { name: 'Ann Bob' });
  const merge = () => {
    sync(bob, alice);
    sync(alice, bob);
  };
  return { alice, bob, ann, merge };
}

function nameOf(model: DomainModel, oid: string) {
  return model.get(oid)?.getAttribute('name');
}

/** Alice deletes the author Ann while Bob, later by his clock, rates her 4; neither has heard of the other's change. */
function deletionRacingAnEdit() {
  const aliceClock = fakeClock();
  const bobClock = fakeClock();
  const alice = library('alice', aliceClock);
  const bob = library('bob', bobClock);
  const ann = alice.create('Author', { name: 'Ann' }).oid;
  sync(alice, bob);
  aliceClock.advance(1_000);
  alice.delete(ann);
  bobClock.advance(2_000);
  bob.update(ann, { rating: 4 });
  return { alice, bob, ann };
}

describe('ednet-conflicts-panel', () => {
  afterEach(unmountAll);

  it('says there are no conflicts when there are none', async () => {
    const panel = await mount('ednet-conflicts-panel', { model: library('alice') });
    expect(textOf(panel)).to.contain('No conflicts');
    expect(await axeViolations(panel)).to.deep.equal([]);
  });

  it('shows a conflict as soon as a merge from a peer makes one', async () => {
    const { alice, merge } = concurrentRename();
    const panel = await mount('ednet-conflicts-panel', {
      model: alice,
      peers: [{ peerId: 'bob' as NodeId, displayName: 'Bob B.', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null }],
    });
    expect(textOf(panel)).to.contain('No conflicts');
    merge();
    await settle();
    const text = textOf(panel);
    expect(text).to.match(/Conflicts \( ?1\)/);
    expect(text).to.contain('Author “Ann Bob”: name');
    expect(text).to.match(/Ann Bob \(shown\) by Bob B\./);
    expect(text).to.match(/Ann Alice by you/);
    expect(await axeViolations(panel)).to.deep.equal([]);
  });

  it('"use this value" settles on the other value, on both peers after sync', async () => {
    const { alice, bob, ann, merge } = concurrentRename();
    merge();
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    expect(textOf(panel)).to.contain('by device bob');
    const resolved: unknown[] = [];
    panel.addEventListener('conflict-resolved', (event) => resolved.push((event as CustomEvent).detail));
    button(panel, [], 'Use this value').click();
    await settle();
    expect(nameOf(alice, ann)).to.equal('Ann Alice');
    expect(alice.conflicts).to.deep.equal([]);
    expect(textOf(panel)).to.contain('No conflicts');
    expect(resolved).to.deep.equal([{ oid: ann, attribute: 'name', value: 'Ann Alice' }]);
    sync(alice, bob);
    expect(nameOf(bob, ann)).to.equal('Ann Alice');
    expect(bob.conflicts).to.deep.equal([]);
  });

  it('"keep" settles on the shown value, from the keyboard, and keeps focus in the panel', async () => {
    const { alice, ann, merge } = concurrentRename();
    merge();
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    button(panel, [], 'Keep').focus();
    await sendKeys({ press: 'Enter' });
    await settle();
    expect(nameOf(alice, ann)).to.equal('Ann Bob');
    expect(alice.conflicts).to.deep.equal([]);
    expect(panel.shadowRoot!.activeElement?.id).to.equal('conflicts-heading');
  });

  it('shows a deletion that raced with an edit, and restores the entity with the edit', async () => {
    const { alice, bob, ann } = deletionRacingAnEdit();
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    sync(bob, alice);
    await settle();
    const text = textOf(panel);
    expect(text).to.contain('Author “Ann” was deleted');
    expect(text).to.contain('Deleted by you');
    expect(text).to.match(/rating: 4 by device bob/);
    expect(await axeViolations(panel)).to.deep.equal([]);
    button(panel, [], 'Restore').click();
    await settle();
    expect(alice.get(ann)?.getAttribute('rating')).to.equal(4);
    expect(alice.conflicts).to.deep.equal([]);
    expect(textOf(panel)).to.contain('No conflicts');
  });

  it('"keep deleted" leaves the entity deleted and the conflict settled', async () => {
    const { alice, bob, ann } = deletionRacingAnEdit();
    sync(bob, alice);
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    button(panel, [], 'Keep deleted').click();
    await settle();
    expect(alice.get(ann)).to.equal(undefined);
    expect(alice.conflicts).to.deep.equal([]);
    sync(alice, bob);
    expect(bob.get(ann)).to.equal(undefined);
    expect(bob.conflicts).to.deep.equal([]);
  });

  it('pages a long list of conflicts', async () => {
    const aliceClock = fakeClock();
    const bobClock = fakeClock();
    const alice = library('alice', aliceClock);
    const bob = library('bob', bobClock);
    const oids = Array.from({ length: 30 }, (_, i) => alice.create('Author', { name: `Author ${i}` }).oid);
    sync(alice, bob);
    aliceClock.advance(1_000);
    bobClock.advance(2_000);
    for (const oid of oids) {
      alice.update(oid, { rating: 1 });
      bob.update(oid, { rating: 2 });
    }
    sync(bob, alice);
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    expect(findAll(panel, [], 'li.card')).to.have.length(25);
    expect(textOf(panel)).to.contain('Showing 25 of 30');
    button(panel, [], 'Show more conflicts').click();
    await settle();
    expect(findAll(panel, [], 'li.card')).to.have.length(30);
  });

  it('renders values written by peers as text, never as markup', async () => {
    const { alice, bob, ann } = concurrentRename();
    bob.update(ann, { name: '<img src=x onerror="window.__pwned=1">' });
    sync(bob, alice);
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    expect(panel.shadowRoot!.querySelector('img')).to.equal(null);
    expect(textOf(panel)).to.contain('<img src=x');
  });
});
