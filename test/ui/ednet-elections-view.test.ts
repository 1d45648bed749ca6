import { emulateMedia, sendKeys, setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import '../../src/ui/index.js';
import type { EdnetElectionsView } from '../../src/ui/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, openElection, sync } from '../models/electoral/electoral-fixture.js';
import { axeViolations, button, fill, find, findAll, mount, settle, submitForm, textOf, unmountAll } from './ui-test-helpers.js';
import { eventually as until } from '../eventually.js';

const EDITOR = ['ednet-election-editor'];
const BALLOT = ['ednet-ballot-form'];
const RESULTS = ['ednet-election-results'];
const CANDIDATES = ['ednet-candidate-list'];
const VOTERS = ['ednet-voter-roll'];

/** The error shown for a control, found through its `aria-describedby`; asserts the control is marked invalid. */
function errorOf(view: EdnetElectionsView, path: readonly string[], controlSelector: string): string {
  const control = find(view, ...path, controlSelector);
  expect(control.getAttribute('aria-invalid'), `${controlSelector} is marked invalid`).to.equal('true');
  const errorId = control.getAttribute('aria-describedby')!.split(' ').find((id) => id.endsWith('-error'))!;
  return find(view, ...path, `#${errorId}`).textContent!.trim();
}

function chooseCandidate(view: EdnetElectionsView, name: string): void {
  const radio = findAll<HTMLInputElement>(view, BALLOT, 'input[type="radio"]').find((input) => input.closest('label')!.textContent!.includes(name));
  if (!radio) throw new Error(`no candidate ${name}`);
  radio.click();
}

async function castBallot(view: EdnetElectionsView, voterNumber: string, candidate?: string): Promise<void> {
  if (candidate) chooseCandidate(view, candidate);
  else for (const radio of findAll<HTMLInputElement>(view, BALLOT, 'input[type="radio"]')) radio.checked = false;
  await submitForm(view, BALLOT, 'form', { voterNumber });
}

function results(view: EdnetElectionsView): string[] {
  return findAll(view, RESULTS, 'ol.results li').map((li) => textOf(li));
}

describe('ednet-elections-view', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
    await emulateMedia({ colorScheme: 'light' });
  });

  it('creates an election from its form and shows it', async () => {
    const model = electoral('alice');
    const view = await mount('ednet-elections-view', { model });
    expect(textOf(view)).to.contain('No elections yet');
    const selected: string[] = [];
    view.addEventListener('election-select', (event) => selected.push(event.detail.electionId));
    await submitForm(view, [], 'details form', { title: 'Board', description: 'Annual board election', opensAt: '2024-05-01', closesAt: '2024-05-02' });
    const election = model.elections().first()!;
    expect(election.attributes()).to.deep.include({ title: 'Board', description: 'Annual board election', opensAt: '2024-05-01', closesAt: '2024-05-02', status: 'draft', sealed: true });
    expect(selected).to.deep.equal([election.oid]);
    expect(find<HTMLInputElement>(view, ...EDITOR, '#title').value).to.equal('Board');
    expect(textOf(find(view, 'ednet-virtual-list'))).to.contain('Board Draft');
  });

  it('shows the model\'s errors next to the fields of the new-election form', async () => {
    const model = electoral('alice');
    const view = await mount('ednet-elections-view', { model });
    await submitForm(view, [], 'details form', { title: '' });
    expect(errorOf(view, [], '#new-title')).to.equal('A value is required.');
    expect(view.shadowRoot!.activeElement?.id).to.equal('new-title');
    await submitForm(view, [], 'details form', { title: 'Board', opensAt: '2024-05-02', closesAt: '2024-05-01' });
    expect(errorOf(view, [], '#new-closes')).to.equal('The election must close after it opens.');
    expect(model.elections().count).to.equal(0);
  });

  it('runs an election with live results through its controls: candidates, voters, opening, a ballot, results, a confirmed close', async function () {
    // A whole flow with accessibility checks: generous on a busy machine.
    this.timeout(90_000);
    const model = electoral('alice');
    const view = await mount('ednet-elections-view', { model });
    find<HTMLInputElement>(view, 'details form input[value="live"]').click();
    await submitForm(view, [], 'details form', { title: 'Board' });
    await submitForm(view, CANDIDATES, 'form', { name: 'Ann', party: 'Blue', statement: 'For a greener campus.' });
    await submitForm(view, CANDIDATES, 'form', { name: 'Ben' });
    expect(textOf(find(view, ...CANDIDATES, 'ul'))).to.match(/Ann Blue For a greener campus\. Remove Ann\s+Ben Remove Ben/);
    find<HTMLDetailsElement>(view, ...VOTERS, 'details').open = true;
    await submitForm(view, VOTERS, 'form', { name: 'Vera', voterNumber: 'V-1', district: 'North' });
    await submitForm(view, VOTERS, 'form', { name: 'Walt', voterNumber: 'V-2' });
    const election = model.elections().first()!.oid;
    expect(model.voters().map((voter) => voter.childOids('elections'))).to.deep.equal([[election], [election]]);
    button(view, EDITOR, 'Open voting').click();
    await settle();
    expect(model.statusOf(election)).to.equal('open');
    expect(textOf(find(view, ...EDITOR))).to.contain('Voting open');
    await castBallot(view, 'V-1', 'Ann');
    expect(textOf(find(view, ...BALLOT, '[role="status"]'))).to.equal('Ballot cast by Vera for Ann.');
    expect(results(view)).to.deep.equal(['Ann Blue 1 vote (100%)', 'Ben 0 votes (0%)']);
    expect(textOf(find(view, ...RESULTS))).to.contain('1 ballot counted.');
    // Closing asks first, and says how many ballots will count.
    button(view, EDITOR, 'Close voting…').click();
    await settle();
    expect(textOf(find(view, ...EDITOR, '.confirm'))).to.contain('Close voting? 1 ballot will count');
    button(view, EDITOR, 'Keep voting open').click();
    await settle();
    expect(model.statusOf(election)).to.equal('open');
    // Escape backs out of the question too, and gives focus back to the button that asked it.
    button(view, EDITOR, 'Close voting…').click();
    await settle();
    find(view, ...EDITOR, '.confirm button.secondary').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));
    await settle();
    expect(findAll(view, EDITOR, '.confirm')).to.have.length(0);
    expect(find(view, ...EDITOR).shadowRoot!.activeElement?.textContent).to.equal('Close voting…');
    button(view, EDITOR, 'Close voting…').click();
    await settle();
    find(view, ...EDITOR, '.confirm button.danger').click();
    await settle();
    expect(model.statusOf(election)).to.equal('closed');
    expect(textOf(find(view, ...RESULTS))).to.contain('Final');
    expect(textOf(find(view, ...BALLOT))).to.contain('Voting has closed');
    expect(textOf(find(view, ...EDITOR))).to.contain('Voting is closed with 1 ballot.');
    // The organiser reopens: a new round.
    button(view, EDITOR, 'Reopen voting').click();
    await settle();
    expect(model.statusOf(election)).to.equal('open');
    expect(model.votingHistory(election).rounds).to.have.length(2);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('runs a sealed election: the count shows while open, choices only after the close, on this device', async function () {
    // A whole flow with accessibility checks: generous on a busy machine.
    this.timeout(90_000);
    const model = electoral('alice');
    const view = await mount('ednet-elections-view', { model });
    await submitForm(view, [], 'details form', { title: 'Board' });
    await submitForm(view, CANDIDATES, 'form', { name: 'Ann' });
    await submitForm(view, CANDIDATES, 'form', { name: 'Ben' });
    find<HTMLDetailsElement>(view, ...VOTERS, 'details').open = true;
    await submitForm(view, VOTERS, 'form', { name: 'Vera', voterNumber: 'V-1' });
    const election = model.elections().first()!.oid;
    expect(model.isSealed(election), 'the election seals its ballots').to.equal(true);
    expect(textOf(find(view, ...EDITOR))).to.contain('Ballots are sealed');
    button(view, EDITOR, 'Open voting').click();
    await until(() => model.statusOf(election) === 'open');
    await settle();
    await castBallot(view, 'V-1', 'Ben');
    await until(() => model.ballots(election).count === 1);
    await settle();
    expect(textOf(find(view, ...RESULTS))).to.contain('1 ballot cast so far. Choices are sealed until voting closes.');
    expect(findAll(view, RESULTS, 'ol.results li')).to.have.length(0);
    expect(JSON.stringify(model.ballots(election).first()!.toState())).to.not.include(model.candidates(election).find((c) => c.getAttribute('name') === 'Ben')!.oid);
    button(view, EDITOR, 'Close voting…').click();
    await settle();
    expect(textOf(find(view, ...EDITOR, '.confirm'))).to.contain('1 ballot will count');
    find(view, ...EDITOR, '.confirm button.danger').click();
    await until(() => results(view).length === 2 && results(view)[0] === 'Ben 1 vote (100%)');
    expect(textOf(find(view, ...RESULTS))).to.contain('Final');
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('shows why a ballot is refused next to the voter or candidate field', async () => {
    const model = electoral('alice');
    model.update(openElection(model).election, { liveResults: true });
    model.registerVoter({ name: 'Xena', voterNumber: 'V-3' });
    const view = await mount('ednet-elections-view', { model });
    await castBallot(view, '', 'Ann');
    expect(errorOf(view, BALLOT, '#ballot-voter')).to.equal('Enter the voter number.');
    await castBallot(view, 'V-99', 'Ann');
    expect(errorOf(view, BALLOT, '#ballot-voter')).to.equal('No voter has the number V-99.');
    await castBallot(view, 'V-3', 'Ann');
    expect(errorOf(view, BALLOT, '#ballot-voter')).to.equal('Xena is not registered for this election.');
    await castBallot(view, 'V-1');
    expect(find(view, ...BALLOT, 'input[type="radio"]').getAttribute('aria-invalid')).to.equal('true');
    const candidateNotes = find(view, ...BALLOT, 'fieldset').getAttribute('aria-describedby')!;
    expect(find(view, ...BALLOT, `#${candidateNotes}`).textContent).to.equal('Choose a candidate.');
    await castBallot(view, 'V-1', 'Ben');
    await castBallot(view, 'V-1', 'Ann');
    expect(errorOf(view, BALLOT, '#ballot-voter')).to.equal('Vera has already voted in this election.');
    expect(find(view, ...BALLOT).shadowRoot!.activeElement?.id).to.equal('ballot-voter');
    expect(results(view)).to.deep.equal(['Ben 1 vote (100%)', 'Ann Blue 0 votes (0%)']);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('refuses to open an election without candidates, and says why', async () => {
    const model = electoral('alice');
    model.createElection({ title: 'Empty' });
    const view = await mount('ednet-elections-view', { model });
    button(view, EDITOR, 'Open voting').click();
    await settle();
    expect(find(view, ...EDITOR, '[role="alert"]').textContent).to.contain('An election needs a candidate to open.');
    expect(model.statusOf(model.elections().first()!.oid)).to.equal('draft');
  });

  it('edits the election\'s details and shows errors next to the field', async () => {
    const model = electoral('alice');
    const election = model.createElection({ title: 'Board', opensAt: '2024-05-01' }).oid;
    const view = await mount('ednet-elections-view', { model });
    await submitForm(view, EDITOR, 'form', { title: 'Board 2024', description: 'Yearly' });
    expect(model.get(election)!.attributes()).to.deep.include({ title: 'Board 2024', description: 'Yearly', opensAt: '2024-05-01' });
    expect(textOf(find(view, 'ednet-virtual-list'))).to.contain('Board 2024');
    await submitForm(view, EDITOR, 'form', { title: '' });
    expect(errorOf(view, EDITOR, '#title')).to.equal('A value is required.');
    expect(model.get(election)!.getAttribute('title')).to.equal('Board 2024');
  });

  it('registers and unregisters voters with the roll\'s switches, and reverts a refused change', async () => {
    const model = electoral('alice');
    const ids = openElection(model);
    const view = await mount('ednet-elections-view', { model });
    const [vera] = findAll<HTMLInputElement>(view, VOTERS, 'li input[type="checkbox"]');
    expect(vera!.checked, "Vera's switch is on").to.equal(true);
    vera!.click();
    await settle();
    expect(vera!.checked, "Vera's switch is on after the refused change").to.equal(true);
    expect(textOf(find(view, ...VOTERS, 'li'))).to.contain('Voters can only be unregistered while the election is a draft');
    expect(model.get(ids.vera)!.childOids('elections')).to.deep.equal([ids.election]);
    const draft = model.createElection({ title: 'Draft' }).oid;
    view.electionId = draft;
    await settle();
    const [veraInDraft] = findAll<HTMLInputElement>(view, VOTERS, 'li input[type="checkbox"]');
    expect(veraInDraft!.checked, "Vera's switch in the draft is on").to.equal(false);
    veraInDraft!.click();
    await settle();
    expect(model.get(ids.vera)!.childOids('elections')).to.have.members([ids.election, draft]);
    veraInDraft!.click();
    await settle();
    expect(model.get(ids.vera)!.childOids('elections')).to.deep.equal([ids.election]);
  });

  it('updates live results as ballots arrive from a peer, and shows a superseded ballot with its reason', async () => {
    const aliceClock = fakeClock();
    const bobClock = fakeClock();
    const alice = electoral('alice', aliceClock);
    const bob = electoral('bob', bobClock);
    const ids = openElection(alice);
    alice.update(ids.election, { liveResults: true });
    sync(alice, bob);
    const view = await mount('ednet-elections-view', { model: alice });
    expect(results(view)).to.deep.equal(['Ann Blue 0 votes (0%)', 'Ben 0 votes (0%)']);
    bobClock.advance(1_000);
    bob.castBallot({ voterId: ids.walt, electionId: ids.election, candidateId: ids.ben });
    alice.applyChanges(bob.getDelta(alice.version));
    await settle();
    expect(results(view)).to.deep.equal(['Ben 1 vote (100%)', 'Ann Blue 0 votes (0%)']);
    // Vera votes on both devices while they are apart: the earlier ballot counts.
    aliceClock.advance(2_000);
    alice.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ann });
    bobClock.advance(5_000);
    bob.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ben });
    alice.applyChanges(bob.getDelta(alice.version));
    await settle();
    expect(results(view)).to.deep.equal(['Ann Blue 1 vote (50%)', 'Ben 1 vote (50%)']);
    const text = textOf(find(view, ...RESULTS));
    expect(text).to.contain('2 ballots counted, 1 superseded.');
    expect(text).to.match(/Not counted \( ?1\)/);
    expect(text).to.contain('Superseded: an earlier ballot of this voter counts Vera for Ben');
  });

  it('follows a peer deleting the shown election', async () => {
    const alice = electoral('alice');
    const bob = electoral('bob');
    const first = alice.createElection({ title: 'First' }).oid;
    alice.createElection({ title: 'Second' });
    sync(alice, bob);
    const view = await mount('ednet-elections-view', { model: alice, electionId: first });
    expect(find<HTMLInputElement>(view, ...EDITOR, '#title').value).to.equal('First');
    bob.delete(first);
    sync(bob, alice);
    await settle();
    expect(find<HTMLInputElement>(view, ...EDITOR, '#title').value).to.equal('Second');
  });

  it('switches elections from the list', async () => {
    const model = electoral('alice');
    model.createElection({ title: 'First' });
    const second = model.createElection({ title: 'Second' }).oid;
    const view = await mount('ednet-elections-view', { model });
    button(view, [], 'Second').click();
    await settle();
    expect(view.electionId).to.equal(second);
    expect(find(view, 'button[aria-current="true"]').textContent).to.contain('Second');
    expect(find<HTMLInputElement>(view, ...EDITOR, '#title').value).to.equal('Second');
  });

  it('is operable from the keyboard: type a title, press Enter', async () => {
    const model = electoral('alice');
    const view = await mount('ednet-elections-view', { model });
    find(view, '#new-title').focus();
    await sendKeys({ type: 'Keyboard election' });
    await sendKeys({ press: 'Enter' });
    await settle();
    expect(model.elections().first()?.getAttribute('title')).to.equal('Keyboard election');
    find(view, ...CANDIDATES, '#candidate-name').focus();
    await sendKeys({ type: 'Kim' });
    await sendKeys({ press: 'Tab' });
    await sendKeys({ type: 'Green' });
    await sendKeys({ press: 'Enter' });
    await settle();
    expect(model.candidates(model.elections().first()!.oid).map((c) => [c.getAttribute('name'), c.getAttribute('party')])).to.deep.equal([['Kim', 'Green']]);
  });

  it('renders strings from peers as text, never as markup', async () => {
    const alice = electoral('alice');
    const bob = electoral('bob');
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const election = bob.createElection({ title: hostile, description: hostile });
    bob.addCandidate(election.oid, { name: hostile, party: hostile });
    bob.registerVoter({ name: hostile, voterNumber: 'V-1' });
    sync(bob, alice);
    const view = await mount('ednet-elections-view', { model: alice });
    const images: Element[] = [];
    const collect = (root: ParentNode) => {
      images.push(...root.querySelectorAll('img'));
      for (const element of root.querySelectorAll('*')) if (element.shadowRoot) collect(element.shadowRoot);
    };
    collect(view.shadowRoot!);
    expect(images).to.deep.equal([]);
    expect(textOf(view)).to.contain(hostile);
  });

  it('fits a 360px screen with a running election and has no axe violations', async () => {
    await setViewport({ width: 360, height: 640 });
    const model = electoral('alice');
    const ids = openElection(model);
    model.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ann });
    const view = await mount('ednet-elections-view', { model });
    find<HTMLDetailsElement>(view, ...VOTERS, 'details').open = true;
    await settle();
    expect(document.documentElement.scrollWidth).to.be.at.most(360);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('has no axe violations in the dark colour scheme either', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const model = electoral('alice');
    const ids = openElection(model);
    model.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ann });
    const view = await mount('ednet-elections-view', { model });
    await castBallot(view, 'V-1', 'Ben');
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('renders only the candidates in view of 1,000, and finds one far down', async () => {
    const model = electoral('alice');
    const election = model.createElection({ title: 'Board' });
    for (let i = 0; i < 1000; i++) model.addCandidate(election.oid, { name: `Candidate ${String(i).padStart(4, '0')}` });
    const view = await mount('ednet-elections-view', { model });
    expect(findAll(view, CANDIDATES, 'li.head').length).to.be.within(5, 60);
    fill(find<HTMLInputElement>(view, ...CANDIDATES, '#candidate-filter'), 'candidate 0999');
    await settle();
    expect(findAll(view, CANDIDATES, 'li.head').map((li) => textOf(li))).to.deep.equal(['Candidate 0999 Remove Candidate 0999']);
  });

  it('renders only the voters in view of 3,000, and finds voters far down by name or number', async () => {
    const model = electoral('alice');
    model.createElection({ title: 'Board' });
    for (let i = 0; i < 3000; i++) model.registerVoter({ name: `Voter ${i}`, voterNumber: `N-${i}` });
    const view = await mount('ednet-elections-view', { model });
    expect(findAll(view, VOTERS, 'li.voter').length).to.be.within(5, 60);
    expect(findAll(view, VOTERS, 'li.voter')[0]!.getAttribute('aria-setsize')).to.equal('3000');
    const search = find<HTMLInputElement>(view, ...VOTERS, '#voter-filter');
    search.focus();
    await sendKeys({ type: 'n-299' });
    await settle();
    expect(findAll(view, VOTERS, 'li.voter').map((li) => textOf(li))).to.deep.equal([
      'Voter 299 N-299',
      ...Array.from({ length: 10 }, (_, i) => `Voter ${2990 + i} N-${2990 + i}`),
    ]);
  });

});
