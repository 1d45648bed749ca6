import { expect } from 'chai';
import '../../src/ui/index.js';
import { ElectionRoles } from '../../src/models/electoral/index.js';
import { AttentionNotifier } from '../../src/ui/elections/attention-notifier.js';
import { electionAttention, markApprovalSeen, markResultsSeen } from '../../src/ui/elections/election-attention.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { bobRegistersFor, electoral, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { axeViolations, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';
import { expectNone, expectSome } from '../expectations.js';

/** Alice organises; Bob votes; Carol's device is another tab of Alice's. */
function room() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  return {
    alice: electoral(nodeOf('alice'), clock, ElectionRoles.enforced),
    aliceTab: electoral(nodeOf('alice', 'tab00002'), clock, ElectionRoles.enforced),
    bob: electoral(nodeOf('bob'), clock, ElectionRoles.enforced),
  };
}

const texts = (items: ReturnType<typeof electionAttention>) => items.map((item) => [item.text, item.count]);

describe('what waits for this device', () => {
  afterEach(() => {
    unmountAll();
    localStorage.removeItem('ednet-p2p/results-seen');
  });

  it('voters waiting for the organiser, voting open for an approved voter, results in until seen', () => {
    const { alice, bob } = room();
    const election = alice.createElection({ title: 'Board' }).oid;
    const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
    sync(alice, bob);
    const voter = bobRegistersFor(election, bob, alice);
    expect(texts(electionAttention(alice))).to.deep.equal([['1 voter waiting for approval in “Board”', 1]]);
    expect(electionAttention(bob)).to.deep.equal([]);
    alice.approveVoter(election, voter);
    expect(electionAttention(alice)).to.deep.equal([]);
    // The voter is told it was approved until it looked at the election.
    sync(alice, bob);
    expect(texts(electionAttention(bob))).to.deep.equal([['You are approved to vote in “Board”', 1]]);
    expect(markApprovalSeen(alice, election), 'markApprovalSeen for the organiser recorded something new').to.equal(false);
    expect(markApprovalSeen(bob, election), 'markApprovalSeen for the approved voter recorded something new').to.equal(true);
    expect(markApprovalSeen(bob, election), 'markApprovalSeen a second time recorded something new').to.equal(false);
    expect(electionAttention(bob)).to.deep.equal([]);
    alice.openElection(election);
    sync(alice, bob);
    expect(texts(electionAttention(bob))).to.deep.equal([['Voting is open in “Board”', 1]]);
    bob.castBallot({ voterId: voter, electionId: election, candidateId: ann });
    expect(electionAttention(bob)).to.deep.equal([]);
    sync(bob, alice);
    alice.closeElection(election);
    sync(alice, bob);
    for (const model of [alice, bob]) expect(texts(electionAttention(model))).to.deep.equal([['Results of “Board” are in', 1]]);
    expect(markResultsSeen(bob, election), 'markResultsSeen recorded something new').to.equal(true);
    expect(markResultsSeen(bob, election), 'markResultsSeen a second time recorded something new').to.equal(false);
    // Seen on this browser: every tab of it, and the organiser's device in this test too (one localStorage).
    expect(electionAttention(bob)).to.deep.equal([]);
  });

  it('the voter\'s registration card, once shown, clears its "approved" badge', async () => {
    const { alice, bob } = room();
    const election = alice.createElection({ title: 'Board' }).oid;
    sync(alice, bob);
    const voter = bobRegistersFor(election, bob, alice);
    alice.approveVoter(election, voter);
    sync(alice, bob);
    expect(electionAttention(bob)).to.have.length(1);
    let changed = 0;
    const count = () => changed++;
    document.addEventListener('attention-changed', count);
    try {
      const view = await mount('ednet-elections-view', { model: bob });
      expect(textOf(findAll(view, ['ednet-voter-registration'], 'p')[1]!)).to.equal('Approved You can vote once voting opens.');
      expect(electionAttention(bob)).to.deep.equal([]);
      expect(changed).to.equal(1);
    } finally {
      document.removeEventListener('attention-changed', count);
    }
  });

  it('notifies only new items, only in the background and only when allowed; never what waited at load', () => {
    const shown: string[] = [];
    let hidden = true;
    let permission: NotificationPermission = 'default';
    const notifier = new AttentionNotifier({ permission: () => permission, hidden: () => hidden, show: (_title, body) => shown.push(body) });
    const item = (key: string) => ({ key, electionId: 'e', text: key, count: 1 });
    expect(notifier.update([item('at-load')])).to.deep.equal([]);
    expect(notifier.update([item('at-load'), item('not-allowed')])).to.deep.equal([]);
    permission = 'granted';
    hidden = false;
    expect(notifier.update([item('in-front')])).to.deep.equal([]);
    hidden = true;
    expect(notifier.update([item('in-front'), item('waiting')]).map((i) => i.key)).to.deep.equal(['waiting']);
    expect(notifier.update([item('waiting')])).to.deep.equal([]);
    expect(shown).to.deep.equal(['waiting']);
  });
});

describe('only what this device may do', () => {
  afterEach(() => unmountAll());

  it('the Explorer offers Edit only on entities this device owns, and says who may change the others, in words', async () => {
    const { alice, bob } = room();
    alice.createElection({ title: 'Board' });
    sync(alice, bob);
    bob.registerVoter({ name: 'Bob', voterNumber: 'V-1' });
    sync(bob, alice);
    const explorer = await mount('ednet-model-explorer', { model: bob });
    const rows = findAll(explorer, [], 'tbody tr').map((row) => textOf(row));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.contain('Only the organiser, device alice___…, can change the election “Board”.');
    expect(findAll(explorer, [], 'tbody button')).to.have.length(0);
  });

  it('the Explorer offers New only for what this device may make there, and says where the rest is made', async () => {
    const { alice, bob } = room();
    alice.createElection({ title: 'Board' });
    sync(alice, bob);
    const show = async (explorer: Element, concept: string) => {
      findAll<HTMLButtonElement>(explorer, [], 'nav button').find((b) => textOf(b).startsWith(concept))!.click();
      await settle();
      return { buttons: findAll(explorer, [], '.actions button').map((b) => textOf(b)), why: findAll(explorer, [], '.not-creatable').map((p) => textOf(p)) };
    };
    const voter = await mount('ednet-model-explorer', { model: bob });
    expect(await show(voter, 'Ballot')).to.deep.equal({ buttons: [], why: ['Ballots are cast under “Your ballot” in the Elections tab, by each voter’s own device.'] });
    expect(await axeViolations(voter)).to.deep.equal([]);
    expect((await show(voter, 'VotingEvent')).buttons).to.deep.equal([]);
    expect((await show(voter, 'Approval')).buttons).to.deep.equal([]);
    expect(await show(voter, 'Candidate')).to.deep.equal({ buttons: [], why: ['Only the organiser of an election still in draft can add candidates to it.'] });
    expect((await show(voter, 'Election')).buttons).to.deep.equal(['New Election']);
    expect((await show(voter, 'Voter')).buttons).to.deep.equal(['New Voter']);
    const organiser = await mount('ednet-model-explorer', { model: alice });
    expect((await show(organiser, 'Candidate')).buttons).to.deep.equal(['New Candidate']);
    expect((await show(organiser, 'Ballot')).buttons).to.deep.equal([]);
  });

  it('the Conflicts tab offers no choice where this device cannot write, and tells two tabs of one device from two devices', async () => {
    const { alice, aliceTab, bob } = room();
    const election = alice.createElection({ title: 'Board' }).oid;
    sync(alice, aliceTab);
    alice.update(election, { title: 'Board 2026' });
    aliceTab.update(election, { title: 'The Board' });
    sync(aliceTab, alice);
    sync(alice, bob);
    const own = await mount('ednet-conflicts-panel', { model: alice });
    expect(textOf(own)).to.contain('Changed in two tabs of this device at the same time.');
    expectSome(findAll(own, [], 'button').map((b) => textOf(b)), (text) => text.startsWith('Keep'));
    const other = await mount('ednet-conflicts-panel', { model: bob });
    expect(textOf(other)).to.contain('Changed in two tabs of one device at the same time.');
    expect(textOf(other)).to.match(/Only the organiser, device alice___…, can change the election “(Board 2026|The Board)”\. It can settle this conflict; this device cannot\./);
    expect(findAll(other, [], 'button')).to.have.length(0);
  });

  it('a choice that became impossible after the card was drawn is refused in words, and another tab\'s write is "you, in another tab"', async () => {
    const { alice, aliceTab } = room();
    const election = alice.createElection({ title: 'Board' }).oid;
    const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
    sync(alice, aliceTab);
    alice.update(ann, { party: 'Blue' });
    aliceTab.update(ann, { party: 'Green' });
    sync(aliceTab, alice);
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    expect(textOf(panel)).to.match(/by you, in another tab,/);
    const keep = findAll<HTMLButtonElement>(panel, [], 'button').find((b) => textOf(b).startsWith('Keep'))!;
    // Voting opens (candidates lock) before the panel has drawn again; the click still comes.
    alice.openElection(election);
    keep.click();
    await settle();
    const error = textOf(find(panel, 'p.error'));
    expect(error).to.equal('Voting in the election “Board” is open: its candidates stay as they are.');
    expectNone(findAll(panel, [], 'button').map(textOf), (text) => text.startsWith('Keep'), 'no Keep button');
  });

  it('a deletion racing an edit in another tab of this device says so, not "another device"', async () => {
    const { alice, aliceTab } = room();
    const election = alice.createElection({ title: 'Board' }).oid;
    const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
    sync(alice, aliceTab);
    alice.delete(ann);
    aliceTab.update(ann, { party: 'Green' });
    sync(aliceTab, alice);
    const panel = await mount('ednet-conflicts-panel', { model: alice });
    expect(textOf(panel)).to.contain('1 change made at the same time in another tab of the same device:');
    expect(textOf(panel)).to.not.contain('another device');
  });
});
