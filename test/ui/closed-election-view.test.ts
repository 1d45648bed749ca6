import { expect } from 'chai';
import '../../src/ui/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { bobRegistersFor, enforcedReplicas, nodeOf, sync } from '../models/electoral/electoral-fixture.js';
import { axeViolations, button, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';

/** Alice organises "Board" with Ann and Ben; Bob votes for Ann; Alice closes. */
function closedBoard() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const [alice, bob] = enforcedReplicas(clock, nodeOf('alice'), nodeOf('bob'));
  const election = alice.createElection({ title: 'Board' }).oid;
  const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
  alice.addCandidate(election, { name: 'Ben' });
  sync(alice, bob);
  const voter = bobRegistersFor(election, bob, alice);
  alice.approveVoter(election, voter);
  alice.openElection(election);
  sync(alice, bob);
  bob.castBallot({ voterId: voter, electionId: election, candidateId: ann });
  sync(bob, alice);
  alice.closeElection(election);
  sync(alice, bob);
  return { alice, bob, election };
}

describe('a closed election in the views', () => {
  afterEach(() => unmountAll());

  it('the Explorer says in words why candidates, ballots and openings stay, and offers no Delete of the election', async () => {
    const { alice, bob } = closedBoard();
    const explorer = await mount('ednet-model-explorer', { model: alice });
    const rowsOf = async (concept: string) => {
      button(explorer, ['nav'], concept).click();
      await settle();
      return findAll(explorer, [], 'tbody tr').map((row) => textOf(row));
    };
    for (const row of await rowsOf('Candidate'))
      expect(row).to.contain('Voting in the election “Board” has closed: its candidates stay as they are (the organiser can reopen voting).');
    for (const row of await rowsOf('VotingEvent')) expect(row).to.contain('Openings and closings of the election “Board” stay as they are; only the organiser can reopen voting.');
    for (const row of await rowsOf('Approval')) expect(row).to.contain('its approvals stay as they are');
    // The organiser may still fix the title, not delete the election and its result.
    await rowsOf('Election');
    button(explorer, ['tbody'], 'Edit').click();
    await settle();
    const form = find(explorer, 'ednet-entity-form');
    expect(findAll(form, [], 'button').map((b) => textOf(b))).to.not.include('Delete');
    expect(await axeViolations(explorer)).to.deep.equal([]);

    const voters = await mount('ednet-model-explorer', { model: bob });
    button(voters, ['nav'], 'Ballot').click();
    await settle();
    expect(textOf(find(voters, 'tbody tr'))).to.contain('A ballot cast in the election “Board” stays as it was cast.');
  });

  it('the organiser, who had no vote, sees the results and no ballot card; the voter sees both', async () => {
    const { alice, bob } = closedBoard();
    const organiser = await mount('ednet-elections-view', { model: alice });
    const cards = (view: Element) => [...view.shadowRoot!.querySelectorAll('.parts > *')].map((card) => card.localName);
    expect(cards(organiser)).to.include('ednet-election-results').and.not.include('ednet-ballot-form');
    expect(textOf(find(organiser, 'ednet-election-results'))).to.contain('1 ballot counted.');
    const voter = await mount('ednet-elections-view', { model: bob });
    expect(cards(voter)).to.include.members(['ednet-election-results', 'ednet-ballot-form']);
    expect(textOf(find(voter, 'ednet-ballot-form'))).to.contain('You voted for Ann.');
    expect(await axeViolations(organiser)).to.deep.equal([]);
  });
});
