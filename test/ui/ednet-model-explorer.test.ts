import { sendKeys, setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/ui/index.js';
import type { EdnetModelExplorer } from '../../src/ui/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { library, sync } from '../domain/library-schema.js';
import { electoral } from '../models/electoral/electoral-fixture.js';
import { axeViolations, button, find, findAll, mount, settle, submitForm, textOf, unmountAll } from './ui-test-helpers.js';

const FORM = ['ednet-entity-form'];

function rows(explorer: EdnetModelExplorer): HTMLTableRowElement[] {
  return findAll<HTMLTableRowElement>(explorer, [], 'tbody tr');
}

function fieldError(explorer: EdnetModelExplorer, attribute: string): string {
  const control = find<HTMLInputElement>(explorer, ...FORM, `#field-${attribute}`);
  expect(control.getAttribute('aria-invalid')).to.equal('true');
  const errorId = control.getAttribute('aria-describedby')!.split(' ').find((id) => id.endsWith('-error'))!;
  return find(explorer, ...FORM, `#${errorId}`).textContent!;
}

/** Alice and Bob both hold the author Ann (rating 1); Alice's explorer has Ann's edit form open. */
async function aliceEditsSharedAuthor() {
  const alice = library('alice');
  const bob = library('bob');
  const ann = alice.create('Author', { name: 'Ann', rating: 1 }).oid;
  sync(alice, bob);
  const explorer = await mount('ednet-model-explorer', { model: alice });
  button(explorer, [], 'Edit').click();
  await settle();
  return { alice, bob, ann, explorer };
}

describe('ednet-model-explorer', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
  });

  it('renders a table per concept from the schema alone', async () => {
    const model = library('alice');
    const ann = model.create('Author', { name: 'Ann', email: 'ann@example.org', rating: 4.5 });
    model.create('Book', { title: 'Poems', genre: 'poetry', author: ann.oid });
    const explorer = await mount('ednet-model-explorer', { model });
    expect(findAll(explorer, [], 'nav button').map((b) => b.textContent!.replace(/\s+/g, ' ').trim())).to.deep.equal(['Author (1)', 'Book (1)']);
    const headers = findAll(explorer, [], 'thead th').map((th) => th.textContent!.trim());
    expect(headers.slice(0, 9)).to.deep.equal(['name', 'email', 'born', 'rating', 'books', 'active', 'code', 'stamp', 'works']);
    expect(textOf(rows(explorer)[0]!)).to.contain('Ann ann@example.org 4.5 0 yes');
    button(explorer, [], 'Book').click();
    await settle();
    // References show the target's label, not its id.
    expect(textOf(rows(explorer)[0]!)).to.contain('Poems poetry Ann');
    expect(await axeViolations(explorer)).to.deep.equal([]);
  });

  it('is generic: the electoral model renders with the same element', async () => {
    const model = electoral('alice');
    const election = model.createElection({ title: 'Board' });
    model.addCandidate(election.oid, { name: 'Ann' });
    const explorer = await mount('ednet-model-explorer', { model });
    expect(findAll(explorer, [], 'nav button').map((b) => b.textContent!.replace(/\s+/g, ' ').trim())).to.deep.equal([
      'Election (1)',
      'Candidate (1)',
      'Voter (0)',
      'Ballot (0)',
      'CoOrganiser (0)',
      'Approval (0)',
      'VotingEvent (0)',
      'Room (0)',
      'Member (0)',
    ]);
    expect(textOf(rows(explorer)[0]!)).to.contain('Board');
  });

  it('creates an entity through the generated form, which then edits it', async () => {
    const model = library('alice');
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'New Author').click();
    await settle();
    expect(find(explorer, ...FORM).shadowRoot!.activeElement?.id).to.equal('form-heading');
    await submitForm(explorer, FORM, 'form', { name: 'Ann', email: 'ann@example.org', rating: '3', born: '1990-04-01' });
    const ann = model.findBy('Author', 'email', 'ann@example.org').first()!;
    expect(ann.attributes()).to.deep.include({ name: 'Ann', rating: 3, born: '1990-04-01', books: 0, active: true });
    expect(rows(explorer)).to.have.length(1);
    expect(find(explorer, ...FORM, 'h3').textContent).to.contain('Author “Ann”');
    expect(button(explorer, FORM, 'Save')).to.exist;
  });

  it('shows the model\'s validation errors next to their field and moves focus there', async () => {
    const model = library('alice');
    model.create('Author', { name: 'Ann', email: 'ann@example.org' });
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'New Author').click();
    await settle();
    await submitForm(explorer, FORM, 'form', { name: '' });
    expect(fieldError(explorer, 'name')).to.equal('A value is required.');
    expect(find(explorer, ...FORM).shadowRoot!.activeElement?.id).to.equal('field-name');
    await submitForm(explorer, FORM, 'form', { name: 'Ben', email: 'not an email' });
    expect(fieldError(explorer, 'email')).to.contain('is not an email address');
    await submitForm(explorer, FORM, 'form', { name: 'Ben', email: 'ann@example.org' });
    expect(fieldError(explorer, 'email')).to.contain('already used by another Author');
    await submitForm(explorer, FORM, 'form', { name: 'Ben', email: 'ben@example.org', rating: '9' });
    expect(fieldError(explorer, 'rating')).to.contain('above the maximum 5');
    expect(model.entities('Author').count).to.equal(1);
    expect(await axeViolations(explorer)).to.deep.equal([]);
  });

  it('edits only what the user changed, so a peer\'s concurrent edit of another field survives', async () => {
    const { alice, bob, ann, explorer } = await aliceEditsSharedAuthor();
    bob.update(ann, { name: 'Ann B.' });
    sync(bob, alice);
    await settle();
    expect(find<HTMLInputElement>(explorer, ...FORM, '#field-name').value).to.equal('Ann B.');
    await submitForm(explorer, FORM, 'form', { rating: '2' });
    expect(alice.get(ann)!.attributes()).to.deep.include({ name: 'Ann B.', rating: 2 });
    expect(textOf(find(explorer, ...FORM))).to.contain('Saved.');
  });

  it('keeps what the user is typing when a peer changes the same field, says so, and saves the user\'s value', async () => {
    const { alice, bob, ann, explorer } = await aliceEditsSharedAuthor();
    const name = find<HTMLInputElement>(explorer, ...FORM, '#field-name');
    name.value = 'Ann Alice';
    name.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    bob.update(ann, { name: 'Ann Bob' });
    sync(bob, alice);
    await settle();
    expect(find<HTMLInputElement>(explorer, ...FORM, '#field-name').value).to.equal('Ann Alice');
    expect(textOf(find(explorer, ...FORM))).to.contain('Changed on another device to “Ann Bob” while you were editing: Save keeps yours.');
    // A field the user did not touch follows the peer as before.
    bob.update(ann, { rating: 4 });
    sync(bob, alice);
    await settle();
    expect(find<HTMLInputElement>(explorer, ...FORM, '#field-rating').value).to.equal('4');
    await submitForm(explorer, FORM, 'form', {});
    expect(alice.get(ann)!.attributes()).to.deep.include({ name: 'Ann Alice', rating: 4 });
    expect(textOf(find(explorer, ...FORM))).not.to.contain('Changed on another device');
  });

  it('updates its tables when a peer\'s changes are merged', async () => {
    const alice = library('alice');
    const bob = library('bob');
    const explorer = await mount('ednet-model-explorer', { model: alice });
    expect(textOf(explorer)).to.contain('No Author yet');
    bob.create('Author', { name: 'Bob\'s author' });
    alice.applyChanges(bob.getDelta(alice.version));
    await settle();
    expect(rows(explorer)).to.have.length(1);
    expect(textOf(rows(explorer)[0]!)).to.contain('Bob\'s author');
  });

  it('shows rules a merged state breaks next to the field', async () => {
    const alice = library('alice');
    const bob = library('bob');
    const ann = alice.create('Author', { name: 'Ann', email: 'same@example.org' }).oid;
    bob.create('Author', { name: 'Ben', email: 'same@example.org' });
    sync(bob, alice);
    const explorer = await mount('ednet-model-explorer', { model: alice });
    findAll<HTMLButtonElement>(explorer, [], 'tbody button')[rows(explorer).findIndex((row) => textOf(row).includes('Ann'))]!.click();
    await settle();
    expect(find(explorer, ...FORM, 'h3').textContent).to.contain('Ann');
    expect(alice.get(ann)).to.exist;
    expect(fieldError(explorer, 'email')).to.contain('unique rule');
  });

  it('deletes from the form and restores from the table', async () => {
    const model = library('alice');
    const ann = model.create('Author', { name: 'Ann' }).oid;
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'Edit').click();
    await settle();
    button(explorer, FORM, 'Delete').click();
    await settle();
    expect(model.get(ann)).to.equal(undefined);
    expect(explorer.shadowRoot!.querySelector('ednet-entity-form')).to.equal(null);
    expect(rows(explorer)).to.have.length(0);
    find<HTMLInputElement>(explorer, 'input[type="checkbox"]').click();
    await settle();
    expect(rows(explorer)).to.have.length(1);
    button(explorer, [], 'Restore').click();
    await settle();
    expect(model.get(ann)?.getAttribute('name')).to.equal('Ann');
  });

  it('adds and removes children of a relation', async () => {
    const model = library('alice');
    const ann = model.create('Author', { name: 'Ann' }).oid;
    const poems = model.create('Book', { title: 'Poems' }).oid;
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'Edit').click();
    await settle();
    const select = find<HTMLSelectElement>(explorer, ...FORM, '#add-works');
    select.value = poems;
    button(explorer, FORM, 'Add').click();
    await settle();
    expect(model.get(ann)!.childOids('works')).to.deep.equal([poems]);
    expect(textOf(find(explorer, ...FORM, 'fieldset'))).to.contain('Poems');
    button(explorer, FORM, 'Remove').click();
    await settle();
    expect(model.get(ann)!.childOids('works')).to.deep.equal([]);
  });

  it('renders a page of a long table at a time', async () => {
    const model = library('alice');
    for (let i = 0; i < 120; i++) model.create('Book', { title: `Book ${i}` });
    const explorer = await mount('ednet-model-explorer', { model, pageSize: 50 });
    button(explorer, [], 'Book').click();
    await settle();
    expect(rows(explorer)).to.have.length(50);
    expect(textOf(explorer)).to.contain('Showing 50 of 120');
    button(explorer, [], 'Show 50 more').click();
    await settle();
    expect(rows(explorer)).to.have.length(100);
    button(explorer, [], 'Show 20 more').click();
    await settle();
    expect(rows(explorer)).to.have.length(120);
  });

  it('is operable from the keyboard alone', async () => {
    const model = library('alice', fakeClock());
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'New Author').focus();
    await sendKeys({ press: 'Enter' });
    await settle();
    find<HTMLInputElement>(explorer, ...FORM, '#field-name').focus();
    await sendKeys({ type: 'Keyboard Kate' });
    await sendKeys({ press: 'Enter' });
    await settle();
    expect(model.entities('Author').first()?.getAttribute('name')).to.equal('Keyboard Kate');
  });

  it('fits a 360px screen', async () => {
    await setViewport({ width: 360, height: 640 });
    const model = library('alice');
    model.create('Author', { name: 'A very long author name that keeps going', email: 'long@example.org' });
    const explorer = await mount('ednet-model-explorer', { model });
    button(explorer, [], 'Edit').click();
    await settle();
    expect(document.documentElement.scrollWidth).to.be.at.most(360);
    expect(await axeViolations(explorer)).to.deep.equal([]);
  });
});
