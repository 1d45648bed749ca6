import { expect } from 'chai';
import { type ModelChange, ownedOid, ownerOf } from '../../../src/domain/index.js';
import { BallotReason, BallotStatus, ElectionRoles, ElectoralSystemModel } from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';
import { electoral, enforcedReplicas, nodeOf, sync } from './electoral-fixture.js';
import { Hostile, expectRule } from './roles-fixture.js';

const ALICE = nodeOf('alice');
const BOB = nodeOf('bob');
const CAROL = nodeOf('carol');
const MALLORY = nodeOf('mallory');

const reasonsOf = (model: ElectoralSystemModel, electionId: string) =>
  Object.fromEntries(model.tally(electionId).ballots.map((ballot) => [ballot.ballotId, ballot.reason ?? ballot.status]));

/** Alice organises an election; Bob and Carol register themselves from their own devices; Alice approves them. */
function roomOfThree() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const [alice, bob, carol] = enforcedReplicas(clock, ALICE, BOB, CAROL);
  const election = alice.createElection({ title: 'Board' }).oid;
  const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
  const ben = alice.addCandidate(election, { name: 'Ben' }).oid;
  sync(alice, bob);
  sync(alice, carol);
  const bobsVoter = bob.registerVoter({ name: 'Bob', voterNumber: 'V-1' }).oid;
  bob.registerForElection(bobsVoter, election);
  const carolsVoter = carol.registerVoter({ name: 'Carol', voterNumber: 'V-2' }).oid;
  carol.registerForElection(carolsVoter, election);
  sync(bob, alice);
  sync(carol, alice);
  return { clock, alice, bob, carol, election, ann, ben, bobsVoter, carolsVoter };
}

function syncAll(replicas: readonly ElectoralSystemModel[]): void {
  for (let round = 0; round < 2; round++) for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to);
}

describe('ElectoralSystemModel: election roles', () => {
  it('runs the real flow across three replicas: register yourself, the organiser approves, each votes from its own device', () => {
    const { clock, alice, bob, carol, election, ann, ben, bobsVoter, carolsVoter } = roomOfThree();
    expect(alice.organiserOf(election)).to.equal(ownerOf(election)).and.to.equal(ALICE.slice(0, 32));
    expect(alice.isOrganiser(election), 'the creator organises').to.equal(true);
    expect(bob.isOrganiser(election), 'a voter organises').to.equal(false);
    expect(bob.myVoter()!.oid).to.equal(bobsVoter);
    expect(alice.myVoter()).to.equal(undefined);
    expect(alice.pendingVoters(election).map((v) => v.oid).sort()).to.deep.equal([bobsVoter, carolsVoter].sort());
    alice.approveVoter(election, bobsVoter);
    alice.approveVoter(election, carolsVoter);
    expect(alice.pendingVoters(election).count).to.equal(0);
    alice.openElection(election);
    syncAll([alice, bob, carol]);
    clock.advance(1000);
    bob.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ann });
    carol.castBallot({ voterId: carolsVoter, electionId: election, candidateId: ben });
    syncAll([alice, bob, carol]);
    const tally = alice.tally(election);
    expect(tally).to.deep.include({ counted: 2, invalid: 0 });
    for (const replica of [bob, carol]) expect(replica.tally(election)).to.deep.equal(tally);
    // A tab of Alice's device is the organiser too.
    const aliceTab = electoral(nodeOf('alice', 'tab00002'), clock, ElectionRoles.enforced);
    sync(alice, aliceTab);
    aliceTab.closeElection(election);
    expect(sync(aliceTab, bob).rejected).to.deep.equal([]);
    expect(bob.statusOf(election)).to.equal('closed');
  });

  it('refuses everyone but the organiser, and votes for another\'s voter, locally with a clear message', () => {
    const { alice, bob, election, ann, bobsVoter, carolsVoter } = roomOfThree();
    sync(alice, bob);
    expectRule(() => bob.openElection(election), 'organiser', /only the organiser of this election can open it/);
    expectRule(() => bob.addCandidate(election, { name: 'Bob' }), 'organiser', /add candidates/);
    expectRule(() => bob.removeCandidate(election, ann), 'organiser', /remove candidates/);
    expectRule(() => bob.approveVoter(election, bobsVoter), 'organiser', /approve voters/);
    expectRule(() => bob.update(election, { title: 'Mine' }), 'organiser', /only the organiser's device/);
    expectRule(() => bob.delete(ann), 'organiser');
    expectRule(() => alice.update(bobsVoter, { name: 'Renamed' }), 'voter', /only the voter's own device/);
    expectRule(() => alice.registerForElection(bobsVoter, election), 'voter', /only the voter's own device/);
    alice.openElection(election);
    sync(alice, bob);
    expectRule(() => bob.closeElection(election), 'organiser', /close it/);
    expectRule(() => bob.castBallot({ voterId: carolsVoter, electionId: election, candidateId: ann }), 'not-voters-device', /own device/);
    expectRule(() => bob.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ann }), 'not-approved', /not approved/);
    expectRule(() => alice.revokeVoter(election, bobsVoter), 'status', /draft/);
    // None of it was written.
    expect(bob.ballots(election).count).to.equal(0);
    expect(bob.get(election)!.getAttribute('title')).to.equal('Board');
  });

  it('approval needs the voter\'s own request, and is withdrawn only while the election is a draft', () => {
    const { alice, bob, election, bobsVoter } = roomOfThree();
    bob.unregisterFromElection(bobsVoter, election);
    sync(bob, alice);
    expectRule(() => alice.approveVoter(election, bobsVoter), 'registered', /has not registered/);
    bob.registerForElection(bobsVoter, election);
    sync(bob, alice);
    expect(alice.approveVoter(election, bobsVoter), 'the first approval approves').to.equal(true);
    expect(alice.approveVoter(election, bobsVoter), 'a second approval approves').to.equal(false);
    expect(alice.revokeVoter(election, bobsVoter), 'the revocation revokes').to.equal(true);
    expect(alice.isApproved(election, bobsVoter), 'approved after the revocation').to.equal(false);
  });

  it('a hostile replica writing to another\'s election, approving itself and voting for another: refused or excluded everywhere, with the reason', () => {
    const { clock, alice, bob, carol, election, ann, ben, bobsVoter } = roomOfThree();
    alice.approveVoter(election, bobsVoter);
    alice.openElection(election);
    syncAll([alice, bob, carol]);
    // Mallory's replica keeps no rules; the honest ones verify who wrote what (here: trust dot.node).
    const mallory = new Hostile(MALLORY, clock.now);
    sync(alice, mallory);
    sync(bob, mallory);
    const unowned = mallory.forge('Voter', { name: 'Nobody', voterNumber: 'V-7' }, 'plain-voter-id').oid;
    clock.advance(1000);
    mallory.update(election, { title: 'Mallory rules' });
    mallory.update(bobsVoter, { name: 'Not Bob' });
    const ownVoter = mallory.registerVoter({ name: 'Mal', voterNumber: 'V-8' }).oid;
    mallory.registerForElection(ownVoter, election);
    mallory.addChild(election, 'approvedVoters', ownVoter);
    // A ballot of Mallory's own device for Bob's voter, and one for itself.
    const forBob = mallory.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ben });
    const selfVote = mallory.castBallot({ voterId: ownVoter, electionId: election, candidateId: ben });
    const delta = mallory.getDelta(alice.version);
    const refused = new Map<string, string>();
    for (const replica of [alice, bob, carol]) {
      const result = replica.applyChanges(delta);
      expect(result, replica.nodeId).to.include({ complete: false });
      for (const { change, reason } of result.rejected) refused.set(`${(change as ModelChange).oid}/${(change as { attribute?: string; relation?: string }).attribute ?? (change as { relation?: string }).relation}`, reason);
    }
    expect(refused.get(`${election}/title`)).to.match(/only the organiser's device .* may change Election/);
    expect(refused.get(`${election}/approvedVoters`)).to.match(/not device mallory/);
    expect(refused.get(`${unowned}/name`)).to.match(/names no owning device/);
    expect(refused.get(`${bobsVoter}/name`)).to.match(/only the voter's own device .* may change Voter/);
    bob.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ann });
    syncAll([alice, bob, carol]);
    for (const replica of [alice, bob, carol]) {
      expect(replica.get(election)!.getAttribute('title')).to.equal('Board');
      expect(replica.get(bobsVoter)!.getAttribute('name')).to.equal('Bob');
      expect([...replica.approvedVoters(election)]).to.deep.equal([bobsVoter]);
      expect(replica.get(election)!.childOids('approvedVoters')).to.deep.equal([]);
      const tally = replica.tally(election);
      expect(tally.results.map((r) => [r.name, r.votes])).to.deep.equal([
        ['Ann', 1],
        ['Ben', 0],
      ]);
      const verdicts = Object.fromEntries(tally.ballots.map((b) => [b.ballotId, b]));
      expect(verdicts[forBob.oid]).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.notVotersDevice });
      expect(verdicts[forBob.oid]!.detail).to.equal(`cast by device ${ownerOf(forBob.oid) ?? 'unknown'}, not by the voter's own device ${ownerOf(bobsVoter)}`);
      expect(verdicts[selfVote.oid]).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.notApproved });
      expect(tally).to.deep.equal(alice.tally(election));
    }
  });

  it('a forged ballot in the voter\'s device\'s name is refused; a candidate not made by the organiser never stands', () => {
    const { clock, alice, bob, election, ann, bobsVoter } = roomOfThree();
    alice.approveVoter(election, bobsVoter);
    const mallory = new Hostile(MALLORY, clock.now);
    sync(alice, mallory);
    sync(bob, mallory);
    const stranger = mallory.forge('Candidate', { name: 'Stranger', election }).oid;
    sync(mallory, alice);
    // The organiser adds it through the generic API: it is in the relation, but does not stand.
    alice.addChild(election, 'candidates', stranger);
    alice.openElection(election);
    sync(alice, bob);
    sync(alice, mallory);
    expect(alice.tally(election).results.map((r) => r.name)).to.deep.equal(['Ann', 'Ben']);
    expectRule(() => bob.castBallot({ voterId: bobsVoter, electionId: election, candidateId: stranger }), 'candidate');
    const forged = mallory.forge('Ballot', { voter: bobsVoter, election, candidate: ann, castAt: new Date(clock.now()).toISOString() }, ownedOid(BOB));
    const result = sync(mallory, bob);
    expect(result.rejected.map((r) => r.reason)).to.include(`only the device that cast it (device ${BOB.slice(0, 32)}) may change Ballot ${forged.oid}, not device ${MALLORY.slice(0, 32)}`);
    expect(bob.get(forged.oid)).to.equal(undefined);
    expect(reasonsOf(bob, election)).to.deep.equal({});
  });

  it('decides alike whatever order changes arrive in', () => {
    const { clock, alice, bob, carol, election, ann, bobsVoter, carolsVoter } = roomOfThree();
    alice.approveVoter(election, bobsVoter);
    alice.openElection(election);
    sync(alice, bob);
    clock.advance(1000);
    const ballot = bob.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ann });
    // Carol hears of Bob's ballot before the approval and the opening, then of the rest.
    const late = electoral(nodeOf('dave'), clock, ElectionRoles.enforced);
    expect(late.applyChanges(bob.getChangesSince(carol.version).filter((c) => c.oid === ballot.oid)).rejected).to.deep.equal([]);
    sync(carol, late);
    sync(bob, late);
    sync(alice, carol);
    sync(bob, carol);
    expect(late.tally(election)).to.deep.equal(carol.tally(election));
    expect(carol.tally(election).counted).to.equal(1);
    expect(reasonsOf(carol, election)).to.deep.equal({ [ballot.oid]: 'counted' });
    expect(carol.isApproved(election, carolsVoter), "Carol's voter is approved").to.equal(false);
  });

  it('needs device node ids unless roles are open', () => {
    expect(() => electoral('alice', fakeClock(), ElectionRoles.enforced)).to.throw(/device id.*roles: 'open'/);
    const open = electoral('alice');
    expect(open.roles).to.equal('open');
    expect(open.isOrganiser('anything'), 'with open roles, anyone organises').to.equal(true);
    expect(open.organiserOf('anything')).to.equal(undefined);
  });
});
