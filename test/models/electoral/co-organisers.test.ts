import { expect } from 'chai';
import { VersionVector } from '../../../src/crdt/index.js';
import type { ModelChange } from '../../../src/domain/index.js';
import { BallotReason, ElectionRoles, ElectoralSystemModel } from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';
import { electoral, enforcedReplicas, nodeOf, sync } from './electoral-fixture.js';
import { Hostile, expectRule } from './roles-fixture.js';
import { expectSome } from '../../expectations.js';

const ALICE = nodeOf('alice');
const BOB = nodeOf('bob');
const CAROL = nodeOf('carol');
const DAVE = nodeOf('dave');
const MALLORY = nodeOf('mallory');
const device = (node: string) => node.slice(0, 32);

function syncAll(replicas: readonly ElectoralSystemModel[]): void {
  for (let round = 0; round < 2; round++) for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to);
}

/** Alice organises and makes Bob a co-organiser; Carol and Dave register themselves and ask to vote. */
function room() {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const [alice, bob, carol, dave] = enforcedReplicas(clock, ALICE, BOB, CAROL, DAVE);
  const election = alice.createElection({ title: 'Board' }).oid;
  const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
  const grant = alice.addCoOrganiser(election, device(BOB)).oid;
  syncAll([alice, bob, carol, dave]);
  const carolsVoter = carol.registerVoter({ name: 'Carol', voterNumber: 'V-1' }).oid;
  carol.registerForElection(carolsVoter, election);
  const davesVoter = dave.registerVoter({ name: 'Dave', voterNumber: 'V-2' }).oid;
  dave.registerForElection(davesVoter, election);
  syncAll([alice, bob, carol, dave]);
  return { clock, alice, bob, carol, dave, election, ann, grant, carolsVoter, davesVoter };
}

/**
 * Bob adds the candidate Bea, approves Carol's voter (`davesApprover` approves Dave's) and opens
 * voting; Carol votes for Bea, Dave for Ann, and every replica hears of it. Returns Bea's oid.
 */
function bobOpensAndBothVote(opened: ReturnType<typeof room>, davesApprover: ElectoralSystemModel): string {
  const { clock, alice, bob, carol, dave, election, ann, carolsVoter, davesVoter } = opened;
  const bea = bob.addCandidate(election, { name: 'Bea' }).oid;
  bob.approveVoter(election, carolsVoter);
  davesApprover.approveVoter(election, davesVoter);
  bob.openElection(election);
  syncAll([alice, bob, carol, dave]);
  clock.advance(1000);
  carol.castBallot({ voterId: carolsVoter, electionId: election, candidateId: bea });
  dave.castBallot({ voterId: davesVoter, electionId: election, candidateId: ann });
  syncAll([alice, bob, carol, dave]);
  return bea;
}

describe('ElectoralSystemModel: co-organisers', () => {
  it('a co-organiser approves, adds a candidate, opens and closes; it counts on every replica', () => {
    const { clock, alice, bob, carol, dave, election, ann, carolsVoter, davesVoter } = room();
    expect(alice.coOrganisersOf(election)).to.deep.equal([device(BOB)]);
    for (const replica of [alice, bob, carol]) expect(replica.isOrganiser(election, BOB), replica.nodeId).to.equal(true);
    expect(bob.isOwner(election), 'the co-organiser owns the election').to.equal(false);
    expect(bob.isOrganiser(election), 'the co-organiser organises').to.equal(true);
    expect(carol.isOrganiser(election), 'a voter organises').to.equal(false);

    const bea = bob.addCandidate(election, { name: 'Bea' }).oid;
    expect(bob.approveVoter(election, carolsVoter), 'the first approval approves').to.equal(true);
    expect(bob.approveVoter(election, carolsVoter), 'a second approval approves').to.equal(false);
    alice.approveVoter(election, davesVoter);
    syncAll([alice, bob, carol, dave]);
    expect(alice.pendingVoters(election).count).to.equal(0);
    expect(alice.candidates(election).map((c) => c.oid)).to.deep.equal([ann, bea]);
    // The co-organiser's candidate is not in the organiser's relation: it stands by the grant.
    expect(alice.get(election)!.childOids('candidates')).to.deep.equal([ann]);

    clock.advance(1000);
    bob.openElection(election);
    expect(bob.statusOf(election)).to.equal('open');
    syncAll([alice, bob, carol, dave]);
    clock.advance(1000);
    carol.castBallot({ voterId: carolsVoter, electionId: election, candidateId: bea });
    dave.castBallot({ voterId: davesVoter, electionId: election, candidateId: ann });
    syncAll([alice, bob, carol, dave]);
    clock.advance(1000);
    bob.closeElection(election);
    syncAll([alice, bob, carol, dave]);
    clock.advance(1000);
    expectRule(() => dave.castBallot({ voterId: davesVoter, electionId: election, candidateId: bea }), 'status', /only be cast while the election is open \(it is closed\)/);
    expectRule(() => alice.closeElection(election), 'status');

    const tally = alice.tally(election);
    expect(tally).to.deep.include({ status: 'closed', openedAt: '2024-05-01T08:00:01.000Z', closedAt: '2024-05-01T08:00:03.000Z', counted: 2, invalid: 0 });
    expect(tally.results.map((r) => [r.name, r.votes])).to.deep.equal([
      ['Ann', 1],
      ['Bea', 1],
    ]);
    for (const replica of [bob, carol, dave]) expect(replica.tally(election), replica.nodeId).to.deep.equal(tally);
  });

  it('only the organiser grants and revokes, never to itself nor twice; a co-organiser does not edit the election', () => {
    const { alice, bob, carol, election, ann } = room();
    expectRule(() => bob.addCoOrganiser(election, device(CAROL)), 'organiser', /only the organiser of this election can add co-organisers/);
    expectRule(() => bob.removeCoOrganiser(election, device(BOB)), 'organiser');
    expectRule(() => alice.addCoOrganiser(election, device(ALICE)), 'organiser', /its own co-organiser/);
    expectRule(() => alice.addCoOrganiser(election, device(BOB)), 'exists', /already/);
    expectRule(() => alice.addCoOrganiser(election, 'not-a-device'), 'pattern');
    expectRule(() => bob.update(election, { title: 'Mine' }), 'organiser', /only the organiser's device/);
    expectRule(() => bob.removeCandidate(election, ann), 'organiser', /only the organiser can withdraw the candidates it added/);
    const bea = bob.addCandidate(election, { name: 'Bea' }).oid;
    sync(bob, alice);
    expectRule(() => alice.removeCandidate(election, bea), 'organiser', /a co-organiser added this candidate/);
    expectRule(() => carol.addCandidate(election, { name: 'Cid' }), 'organiser', /add candidates/);
    bob.removeCandidate(election, bea);
    sync(bob, alice);
    expect(alice.candidates(election).map((c) => c.oid)).to.deep.equal([ann]);
    expect(() => electoral('open-alice').addCoOrganiser(electoral('open-alice').createElection({ title: 'x' }).oid, device(BOB))).to.throw();
  });

  it('a grant anyone but the organiser makes has no effect, on any replica', () => {
    const { clock, alice, bob, carol, election, grant, davesVoter } = room();
    alice.openElection(election);
    syncAll([alice, bob, carol]);
    const mallory = new Hostile(MALLORY, clock.now);
    sync(alice, mallory);
    sync(carol, mallory);
    // Mallory grants herself co-organisation, then acts on it: each entity is hers, so it is accepted, and inert.
    const selfGrant = mallory.forge('CoOrganiser', { election, device: device(MALLORY) }).oid;
    const approval = mallory.forge('Approval', { election, voter: davesVoter }).oid;
    const stranger = mallory.forge('Candidate', { name: 'Stranger', election }).oid;
    const closing = mallory.forge('VotingEvent', { election, action: 'close', at: new Date(clock.now()).toISOString() }).oid;
    // So is a grant Bob (a co-organiser) makes for Carol: only the organiser's grants count.
    const bobsGrant = bob.create('CoOrganiser', { election, device: device(CAROL) }).oid;
    for (const replica of [alice, bob, carol]) {
      expect(sync(mallory, replica).rejected, replica.nodeId).to.deep.equal([]);
      sync(bob, replica);
      for (const oid of [selfGrant, approval, stranger, closing, bobsGrant]) expect(replica.get(oid), oid).to.not.equal(undefined);
      expect(replica.coOrganisersOf(election)).to.deep.equal([device(BOB)]);
      expect(replica.isOrganiser(election, MALLORY), `${replica.nodeId}: Mallory organises`).to.equal(false);
      expect(replica.isOrganiser(election, CAROL), `${replica.nodeId}: Carol organises`).to.equal(false);
      expect(replica.isApproved(election, davesVoter), `${replica.nodeId}: Dave's voter is approved`).to.equal(false);
      expect([...replica.approvedVoters(election)], `${replica.nodeId}: approved voters`).to.not.include(davesVoter);
      expect(replica.candidates(election).map((c) => c.oid), `${replica.nodeId}: candidates`).to.not.include(stranger);
      expect(replica.statusOf(election)).to.equal('open');
      expect(replica.tally(election)).to.deep.include({ status: 'open', closedAt: null });
    }
    // And Mallory cannot write Alice's grant (nor delete it): the oid names Alice's device.
    mallory.delete(grant);
    const refused = sync(mallory, alice).rejected.map((r) => r.reason);
    expectSome(refused, (reason) => /only the organiser's device that granted it .* may change CoOrganiser/.test(reason), "a refusal naming the granting organiser's device");
    expect(alice.coOrganisersOf(election)).to.deep.equal([device(BOB)]);
  });

  it('revoking a co-organiser while voting is open stops its candidates and approvals from counting, not its opening; granting again brings them back', () => {
    const opened = room();
    const { alice, bob, carol, dave, election, ann, carolsVoter, davesVoter } = opened;
    bobOpensAndBothVote(opened, alice);
    expect(alice.tally(election).counted).to.equal(2);

    expect(alice.removeCoOrganiser(election, device(BOB)), 'the first removal removes').to.equal(true);
    expect(alice.removeCoOrganiser(election, device(BOB)), 'a second removal removes').to.equal(false);
    syncAll([alice, bob, carol, dave]);
    for (const replica of [alice, bob, carol, dave]) {
      expect(replica.coOrganisersOf(election)).to.deep.equal([]);
      expect(replica.isOrganiser(election, BOB), `${replica.nodeId}: Bob organises after his removal`).to.equal(false);
      // Bob opened voting while he co-organised: that stands (only the organiser's closing or reopening changes it).
      expect(replica.statusOf(election)).to.equal('open');
      expect(replica.candidates(election).map((c) => c.oid)).to.deep.equal([ann]);
      expect(replica.isApproved(election, carolsVoter), `${replica.nodeId}: Carol's voter, approved only by Bob, is approved`).to.equal(false);
      const reasons = Object.fromEntries(replica.tally(election).ballots.map((b) => [b.voterId, b.reason]));
      expect(reasons).to.deep.equal({ [carolsVoter]: BallotReason.notApproved, [davesVoter]: undefined });
      expect(replica.tally(election)).to.deep.equal(alice.tally(election));
    }
    expectRule(() => bob.closeElection(election), 'organiser', /close it/);
    alice.addCoOrganiser(election, device(BOB));
    syncAll([alice, bob, carol, dave]);
    for (const replica of [alice, bob, carol, dave]) expect(replica.tally(election).counted, replica.nodeId).to.equal(2);
  });

  it('a co-organiser withdraws only its own approvals, and only while the election is a draft', () => {
    const { alice, bob, election, carolsVoter } = room();
    bob.approveVoter(election, carolsVoter);
    alice.approveVoter(election, carolsVoter);
    sync(bob, alice);
    sync(alice, bob);
    expect(bob.revokeVoter(election, carolsVoter), "Bob's first revocation revokes").to.equal(true);
    expect(bob.revokeVoter(election, carolsVoter), "Bob's second revocation revokes").to.equal(false);
    // The organiser's own approval stays.
    expect(bob.isApproved(election, carolsVoter), "approved by the organiser's approval").to.equal(true);
    expect(alice.revokeVoter(election, carolsVoter), "the organiser's revocation revokes").to.equal(true);
    sync(alice, bob);
    expect(bob.isApproved(election, carolsVoter), 'approved after both revocations').to.equal(false);
    expect(bob.pendingVoters(election).map((v) => v.oid)).to.include(carolsVoter);
  });

  it('decides alike in any delivery order: the grant before or after the co-organiser\'s entities', () => {
    const opened = room();
    const { clock, alice, bob, carol, dave, election } = opened;
    // The ballots reach bob before he closes: exactly what the closing device holds counts.
    const bea = bobOpensAndBothVote(opened, bob);
    clock.advance(1000);
    bob.closeElection(election);
    syncAll([alice, bob, carol, dave]);
    const expected = alice.tally(election);
    expect(expected).to.deep.include({ status: 'closed', counted: 2 });

    // Every change, one by one; the grant's separately.
    const all: ModelChange[] = alice.getChangesSince(new VersionVector());
    const isGrant = (change: ModelChange) => alice.get(change.oid)?.concept === 'CoOrganiser';
    const grant = all.filter(isGrant);
    const rest = all.filter((change) => !isGrant(change));
    expect(grant.length).to.be.greaterThan(0);

    const grantLast = electoral(nodeOf('erin'), clock, ElectionRoles.enforced);
    for (const change of rest.slice().reverse()) expect(grantLast.applyChanges([change]).rejected, change.oid).to.deep.equal([]);
    // Before the grant, none of Bob's work counts (and nothing was refused).
    expect(grantLast.tally(election)).to.deep.include({ status: 'draft', counted: 0 });
    expect(grantLast.candidates(election).map((c) => c.oid), 'candidates before the grant').to.not.include(bea);
    expect(grantLast.applyChanges(grant).rejected).to.deep.equal([]);

    const grantFirst = electoral(nodeOf('fred'), clock, ElectionRoles.enforced);
    expect(grantFirst.applyChanges(grant).rejected).to.deep.equal([]);
    for (const change of shuffled(rest, 7)) expect(grantFirst.applyChanges([change]).rejected, change.oid).to.deep.equal([]);

    expect(grantLast.tally(election)).to.deep.equal(expected);
    expect(grantFirst.tally(election)).to.deep.equal(expected);
    expect(grantFirst.statusOf(election)).to.equal('closed');
    expect(grantLast.coOrganisersOf(election)).to.deep.equal([device(BOB)]);
  });
});

// A seeded shuffle (mulberry32), so a failure can be replayed.
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
