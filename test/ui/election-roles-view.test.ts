import { expect } from 'chai';
import '../../src/ui/index.js';
import { type AttributeValues, type CRDTEntity, ownedOid } from '../../src/domain/index.js';
import { ElectionRoles, ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { bobRegistersFor, electoral, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { axeViolations, button, find, findAll, mount, settle, submitForm, textOf, unmountAll } from './ui-test-helpers.js';

const EDITOR = ['ednet-election-editor'];
const BALLOT = ['ednet-ballot-form'];
const RESULTS = ['ednet-election-results'];
const CANDIDATES = ['ednet-candidate-list'];
const VOTERS = ['ednet-voter-roll'];
const REGISTRATION = ['ednet-voter-registration'];

const buttonsOf = (host: Element, path: readonly string[]) => findAll(host, path, 'button').map((b) => textOf(b));

/** Two devices with roles enforced: Alice organises, Bob votes. */
function devices() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  return {
    clock,
    alice: electoral(nodeOf('alice'), clock, ElectionRoles.enforced),
    bob: electoral(nodeOf('bob'), clock, ElectionRoles.enforced),
  };
}

describe('ednet-elections-view with election roles', () => {
  afterEach(() => unmountAll());

  it('runs the real flow: the organiser sets up, a voter registers on its own device, the organiser approves, the voter votes', async function () {
    // A whole flow with accessibility checks: generous on a busy machine.
    this.timeout(90_000);
    const { alice, bob } = devices();
    const organiser = await mount('ednet-elections-view', { model: alice });
    // Not sealed, so the voter's card can say whom it voted for (the sealed flow has its own tests).
    find<HTMLInputElement>(organiser, 'details form input[value="open"]').click();
    await submitForm(organiser, [], 'details form', { title: 'Board' });
    expect(textOf(find(organiser, ...EDITOR))).to.contain('You organise this election.');
    await submitForm(organiser, CANDIDATES, 'form', { name: 'Ann' });
    await submitForm(organiser, CANDIDATES, 'form', { name: 'Ben' });
    expect(textOf(find(organiser, ...VOTERS))).to.contain('Nobody has asked to vote in this election yet.');
    // A draft has no ballot to cast and no results: those cards are not there yet.
    const cards = (view: Element) => [...view.shadowRoot!.querySelectorAll('.parts > *')].map((card) => card.localName);
    expect(cards(organiser)).to.deep.equal(['ednet-election-editor', 'ednet-voter-registration', 'ednet-candidate-list', 'ednet-voter-roll', 'ednet-co-organisers']);
    sync(alice, bob);

    const voter = await mount('ednet-elections-view', { model: bob });
    expect(cards(voter)).to.not.include.members(['ednet-ballot-form', 'ednet-election-results']);
    await submitForm(voter, REGISTRATION, 'form', { name: 'Bob', voterNumber: 'V-1' });
    expect(textOf(find(voter, ...REGISTRATION))).to.match(/You are registered as Bob V-1 ?\./);
    expect(textOf(find(voter, ...REGISTRATION))).to.contain('Waiting Waiting for the organiser to approve you.');
    sync(bob, alice);
    await settle();

    expect(textOf(find(organiser, ...VOTERS))).to.contain('(0 approved, 1 waiting)');
    // Where voting opens, the organiser is told voters wait, and taken to them.
    expect(textOf(find(organiser, ...EDITOR, 'p.waiting'))).to.equal('1 voter waiting for approval. Show voters');
    button(organiser, EDITOR, 'Show voters').click();
    await settle();
    expect(find(organiser, ...VOTERS).shadowRoot!.activeElement?.id).to.equal('voters-heading');
    // People by name; the device id only under "Details".
    const row = find(organiser, ...VOTERS, 'li.voter');
    expect(textOf(row.querySelector('.head')!)).to.match(/^Bob V-1 ?Waiting for approval$/);
    expect(textOf(row.querySelector('details.ids p')!)).to.contain(`Registered from device ${bob.deviceId}`);
    button(organiser, VOTERS, 'Approve').click();
    await settle();
    expect(textOf(find(organiser, ...VOTERS))).to.contain('(1 approved, 0 waiting)');
    expect(findAll(organiser, EDITOR, 'p.waiting')).to.have.length(0);
    button(organiser, EDITOR, 'Open voting').click();
    await settle();
    sync(alice, bob);
    await settle();

    expect(textOf(find(voter, ...REGISTRATION))).to.contain('Approved Voting is open: see “Your ballot”.');
    // The registration's earlier message ("the organiser can now approve you") is gone with the state it answered.
    expect(textOf(find(voter, ...REGISTRATION))).to.not.contain('can now approve you');
    expect(textOf(find(voter, ...BALLOT))).to.match(/Voting as Bob V-1 ?, from this device\./);
    const ann = findAll<HTMLInputElement>(voter, BALLOT, 'input[type="radio"]').find((radio) => radio.closest('label')!.textContent!.includes('Ann'))!;
    ann.click();
    find<HTMLButtonElement>(voter, ...BALLOT, 'button[type="submit"]').click();
    await settle();
    expect(textOf(find(voter, ...BALLOT, '[role="status"]'))).to.equal('Your ballot is in, for Ann. Results at the close.');
    expect(textOf(find(voter, ...REGISTRATION))).to.not.contain('You can vote now');
    // One state, the current one: the registration says so too, not "see your ballot".
    expect(textOf(find(voter, ...REGISTRATION))).to.contain('Approved You have voted.');
    expect(textOf(find(voter, ...REGISTRATION))).to.not.contain('see “Your ballot”');
    sync(bob, alice);
    await settle();
    expect(textOf(find(organiser, ...RESULTS))).to.contain('1 ballot cast so far.');
    alice.closeElection(alice.elections().first()!.oid);
    await settle();
    expect(textOf(find(organiser, ...RESULTS))).to.contain('1 ballot counted.');
    expect(await axeViolations(organiser)).to.deep.equal([]);
    expect(await axeViolations(voter)).to.deep.equal([]);
  });

  it('an approved voter withdraws from a draft on its registration card, and may ask again', async () => {
    const { alice, bob } = devices();
    const election = alice.createElection({ title: 'Board' }).oid;
    sync(alice, bob);
    const voterId = bobRegistersFor(election, bob, alice);
    alice.approveVoter(election, voterId);
    sync(alice, bob);
    const voter = await mount('ednet-elections-view', { model: bob });
    expect(textOf(find(voter, ...REGISTRATION))).to.contain('Approved You can vote once voting opens.');
    expect(await axeViolations(voter)).to.deep.equal([]);
    button(voter, REGISTRATION, 'Withdraw from this election').click();
    await settle();
    expect(textOf(find(voter, ...REGISTRATION))).to.contain('You have not asked to vote in this election.');
    expect(textOf(find(voter, ...REGISTRATION, '[role="status"]'))).to.equal('Withdrawn from this election.');
    sync(bob, alice);
    expect(alice.pendingVoters(election).count).to.equal(0);
    expect(alice.get(voterId)!.childOids('elections')).to.deep.equal([]);
    // The organiser's approval stands: asking again in the same draft needs no second one.
    button(voter, REGISTRATION, 'Ask to vote in').click();
    await settle();
    expect(textOf(find(voter, ...REGISTRATION))).to.contain('Approved You can vote once voting opens.');
  });

  it('shows others the election read-only, with who organises it and why the controls are missing', async () => {
    const { alice, bob } = devices();
    const election = alice.createElection({ title: 'Board', opensAt: '2024-05-01' }).oid;
    alice.addCandidate(election, { name: 'Ann' });
    sync(alice, bob);
    bob.registerForElection(bob.registerVoter({ name: 'Bob', voterNumber: 'V-1' }).oid, election);
    const view = await mount('ednet-elections-view', { model: bob });
    const editor = textOf(find(view, ...EDITOR));
    expect(editor).to.contain('Organised by device alice___…');
    expect(editor).to.contain('Ballots are not sealed: every member’s device holds who chose what. Results show when voting closes.');
    expect(editor).to.contain('Title Board');
    expect(editor).to.contain('Only the organiser can change this election, and open or close voting (co-organisers too, for voting).');
    expect(buttonsOf(view, EDITOR)).to.deep.equal([]);
    expect(textOf(find(view, ...CANDIDATES))).to.contain('Only the organiser and co-organisers can add or remove candidates.');
    expect(buttonsOf(view, CANDIDATES)).to.deep.equal([]);
    expect(textOf(find(view, ...VOTERS))).to.contain('Only the organiser and co-organisers can approve voters.');
    expect(textOf(find(view, ...VOTERS, 'li.voter .head'))).to.contain('you, on this device');
    expect(buttonsOf(view, VOTERS)).to.deep.equal([]);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('lists a ballot cast for another device\'s voter as not counted, with the reason and its detail', async () => {
    const { clock, alice, bob } = devices();
    const election = alice.createElection({ title: 'Board' }).oid;
    const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
    sync(alice, bob);
    const bobsVoter = bobRegistersFor(election, bob, alice);
    alice.approveVoter(election, bobsVoter);
    alice.openElection(election);
    // Mallory's replica keeps no rules and casts a ballot, under its own device, for Bob's voter.
    class Hostile extends ElectoralSystemModel {
      forge(concept: string, values: AttributeValues, oid: string): CRDTEntity {
        return this.createManaged(concept, values, { oid });
      }
    }
    const mallory = new Hostile({ modelId: 'election-2024', nodeId: nodeOf('mallory'), getNow: clock.now, roles: ElectionRoles.open });
    sync(alice, mallory);
    sync(bob, mallory);
    clock.advance(1000);
    mallory.forge('Ballot', { voter: bobsVoter, election, candidate: ann, castAt: new Date(clock.now()).toISOString() }, ownedOid(nodeOf('mallory')));
    sync(mallory, alice);
    alice.closeElection(election);
    const view = await mount('ednet-elections-view', { model: alice });
    const text = textOf(find(view, ...RESULTS));
    expect(text).to.contain('0 ballots counted, 1 not counted.');
    expect(text).to.contain("Not cast from the voter's own device Bob for Ann");
    // The detail names devices in words: Bob's by his voter's name, Mallory's (no name) by the start of its id.
    expect(text).to.contain('cast by device mallory_…, not by the voter\'s own device “Bob”');
    expect(text).to.not.match(/[A-Za-z0-9_-]{20}/);
  });
});
