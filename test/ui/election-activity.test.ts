import { expect } from 'chai';
import { ElectionRoles, type ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { AuthorNames } from '../../src/ui/audit/author-names.js';
import { electionActivity } from '../../src/ui/audit/election-activity.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, enforcedReplicas, nodeOf, sync } from '../models/electoral/electoral-fixture.js';

const ALICE = nodeOf('alice');
const BOB = nodeOf('bob');
const CAROL = nodeOf('carol');

describe('electionActivity: co-organisers', () => {
  it('lists the grant, the co-organiser\'s approval, candidate, opening and closing, and the revocation, each by its author', () => {
    const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
    const [alice, bob, carol] = enforcedReplicas(clock, ALICE, BOB, CAROL);
    const election = alice.createElection({ title: 'Board' }).oid;
    alice.addCandidate(election, { name: 'Ann' });
    clock.advance(2000);
    alice.addCoOrganiser(election, BOB.slice(0, 32));
    sync(alice, bob);
    sync(alice, carol);
    clock.advance(2000);
    const carolsVoter = carol.registerVoter({ name: 'Carol', voterNumber: 'V-1' }).oid;
    carol.registerForElection(carolsVoter, election);
    sync(carol, bob);
    clock.advance(2000);
    bob.approveVoter(election, carolsVoter);
    clock.advance(2000);
    bob.addCandidate(election, { name: 'Bea', party: 'Green' });
    clock.advance(2000);
    bob.openElection(election);
    clock.advance(2000);
    bob.closeElection(election);
    sync(bob, alice);
    sync(carol, alice);
    clock.advance(2000);
    alice.removeCoOrganiser(election, BOB.slice(0, 32));

    const byWhat = (model: ElectoralSystemModel) => electionActivity(model, election).map((entry) => [entry.what, entry.author.slice(0, 5)]);
    expect(byWhat(alice)).to.deep.equal([
      ['Removed device bob_____… as a co-organiser', 'alice'],
      // Revoking after the close undoes nothing: bob opened and closed voting while he co-organised.
      ['Closed voting', 'bob__'],
      ['Opened voting', 'bob__'],
      ['Added candidate “Bea” (“Green”)', 'bob__'],
      ['Approved voter “Carol”', 'bob__'],
      ['Registered “Carol” for this election', 'carol'],
      ['Created voter “Carol” (number “V-1”)', 'carol'],
      ['Made device bob_____… a co-organiser', 'alice'],
      ['Added candidate “Ann”', 'alice'],
      ['Created the election “Board”', 'alice'],
    ]);
  });

  it('names an effective co-organiser as such among the authors', () => {
    const alice = electoral(ALICE, fakeClock(), ElectionRoles.enforced);
    const election = alice.createElection({ title: 'Board' }).oid;
    alice.addCoOrganiser(election, BOB.slice(0, 32));
    const names = new AuthorNames(alice, election, [{ peerId: BOB, displayName: 'Bob' }]);
    expect(names.of(BOB)).to.deep.include({ name: 'co-organiser', detail: 'device bob_____…, “Bob”' });
    alice.removeCoOrganiser(election, BOB.slice(0, 32));
    expect(new AuthorNames(alice, election, []).of(BOB).name).to.equal('device bob_____…');
  });
});

describe('electionActivity: every opening and closing', () => {
  it('lists a close that raced another as having no effect, and the reopening as such, each by its author', () => {
    const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
    const [alice, bob] = enforcedReplicas(clock, ALICE, BOB);
    const election = alice.createElection({ title: 'Board' }).oid;
    alice.addCandidate(election, { name: 'Ann' });
    alice.addCoOrganiser(election, BOB.slice(0, 32));
    clock.advance(2000);
    alice.openElection(election);
    sync(alice, bob);
    clock.advance(2000);
    // Both close at once, neither having seen the other's closing.
    alice.closeElection(election);
    bob.closeElection(election);
    sync(bob, alice);
    sync(alice, bob);
    clock.advance(2000);
    alice.openElection(election);
    clock.advance(2000);
    alice.closeElection(election);
    sync(alice, bob);
    for (const model of [alice, bob]) {
      const voting = electionActivity(model, election)
        .filter((entry) => /voting/.test(entry.what))
        .map((entry) => [entry.what.replace(/ — no effect: .*/, ' — no effect'), entry.author.slice(0, 5)]);
      // Newest first; the two racing closes carry one clock reading, so their order is the list's own.
      expect(voting.slice(0, 2)).to.deep.equal([
        ['Closed voting', 'alice'],
        ['Reopened voting', 'alice'],
      ]);
      expect(voting.slice(2, 4).sort()).to.deep.equal([
        ['Closed voting — no effect', 'bob__'],
        ['Closed voting', 'alice'],
      ]);
      expect(voting[4]).to.deep.equal(['Opened voting', 'alice']);
    }
  });
});
