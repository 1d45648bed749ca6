import { expect } from 'chai';
import { ElectionRoles, ElectoralSystemModel, type Tally } from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';
import { nodeOf, sync } from './electoral-fixture.js';
import { expectRule } from './roles-fixture.js';

/*
 * Once voting closed, no write of anyone changes the result: not the organiser's side removing a
 * candidate, withdrawing an approval, deleting a ballot, an opening or closing, the election itself,
 * or revoking the co-organiser who closed; not a voter deleting or restoring its ballot. Each
 * replica receives the writes in its own order and every one tallies alike. Only a reopening,
 * which the history shows, changes what counts.
 */

const [ALICE, BOB, CAROL, DAVE, ERIN] = ['alice', 'bob', 'carol', 'dave', 'erin'].map((name) => nodeOf(name)) as [string, string, string, string, string];
const device = (node: string) => node.slice(0, 32);

/** A device running an app that skips the model's locks (an old or altered app): its writes are still its own. */
class Unlocked extends ElectoralSystemModel {
  override lockProblem(): string | undefined {
    return undefined;
  }
}

function replica(node: string, clock: ReturnType<typeof fakeClock>, unlocked = false): ElectoralSystemModel {
  let n = 0;
  const options = { modelId: 'election-2024', nodeId: node, getNow: clock.now, newId: () => node.slice(-8) + String(++n).padStart(13, '0'), roles: ElectionRoles.enforced };
  return unlocked ? new Unlocked(options) : new ElectoralSystemModel(options);
}

function syncAll(replicas: readonly ElectoralSystemModel[]): void {
  for (let round = 0; round < 2; round++) for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to);
}

// What a result is, for comparing before and after: who got how many votes, and each ballot's fate.
function result(tally: Tally) {
  return {
    status: tally.status,
    results: tally.results.map((r) => [r.name, r.votes]),
    ballots: tally.ballots.map((b) => [b.ballotId, b.status, b.reason ?? null]),
  };
}

/**
 * Alice organises, Bob co-organises (their devices skip the locks); Carol, Dave and Erin vote 2–1
 * for Ann, then Bob closes. With `withdrawn`, Erin's app deleted her ballot (for Ben) and cast another
 * for Ann before the close: the first, cast earlier, still counts; the second is superseded.
 */
function closedElection({ withdrawn: withWithdrawn = false } = {}) {
  const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
  const alice = replica(ALICE, clock, true);
  const bob = replica(BOB, clock, true);
  const carol = replica(CAROL, clock);
  const dave = replica(DAVE, clock);
  const erin = replica(ERIN, clock, true);
  const all = [alice, bob, carol, dave, erin];
  const election = alice.createElection({ title: 'Board' }).oid;
  const ann = alice.addCandidate(election, { name: 'Ann' }).oid;
  const ben = alice.addCandidate(election, { name: 'Ben' }).oid;
  const grant = alice.addCoOrganiser(election, device(BOB)).oid;
  syncAll(all);
  const voters = [carol, dave, erin].map((model, i) => {
    const voter = model.registerVoter({ name: ['Carol', 'Dave', 'Erin'][i]!, voterNumber: `V-${i + 1}` }).oid;
    model.registerForElection(voter, election);
    return voter;
  }) as [string, string, string];
  syncAll(all);
  for (const voter of voters) alice.approveVoter(election, voter);
  clock.advance(1000);
  alice.openElection(election);
  syncAll(all);
  clock.advance(1000);
  // Erin's altered app deletes her first ballot and casts another: the first, cast earlier, still counts.
  const withdrawn = erin.castBallot({ voterId: voters[2], electionId: election, candidateId: ben }).oid;
  if (withWithdrawn) erin.delete(withdrawn);
  carol.castBallot({ voterId: voters[0], electionId: election, candidateId: ann });
  dave.castBallot({ voterId: voters[1], electionId: election, candidateId: ann });
  clock.advance(10);
  if (withWithdrawn) (erin as unknown as { createManaged: ElectoralSystemModel['create'] }).createManaged('Ballot', {
    voter: voters[2],
    election,
    candidate: ann,
    castAt: new Date(clock.now()).toISOString(),
    opening: erin.votingHistory(election).rounds[0]!.openings[0]!.oid,
  });
  syncAll(all);
  clock.advance(1000);
  const close = bob.closeElection(election).oid;
  syncAll(all);
  const before = result(alice.tally(election));
  expect(before.results).to.deep.equal([
    ['Ann', 2],
    ['Ben', 1],
  ]);
  for (const model of all) expect(result(model.tally(election)), model.nodeId).to.deep.equal(before);
  clock.advance(1000);
  return { clock, alice, bob, carol, dave, erin, all, election, ann, ben, grant, voters, withdrawn, close, before };
}

// Delivers each replica's changes to the others in a different order per replica, then checks everyone.
function deliverAndExpect(all: readonly ElectoralSystemModel[], election: string, expected: ReturnType<typeof result>): void {
  for (let shift = 0; shift < all.length; shift++) {
    const to = all[shift]!;
    for (const from of [...all.slice(shift), ...all.slice(0, shift)].reverse()) if (from !== to) sync(from, to);
  }
  syncAll(all);
  for (const model of all) expect(result(model.tally(election)), model.nodeId).to.deep.equal(expected);
}

describe('ElectoralSystemModel: a closed result never changes', () => {
  it('the organiser removing a candidate, withdrawing an approval and deleting the closing after the close changes nothing, on every replica', () => {
    const { alice, bob, all, election, ann, voters, close, before } = closedElection();
    alice.removeChild(election, 'candidates', ann);
    alice.delete(ann);
    const approval = alice.findBy('Approval', 'voter', voters[0]).first()!;
    alice.delete(approval.oid);
    bob.delete(close);
    deliverAndExpect(all, election, before);
    for (const model of all) {
      expect(model.statusOf(election)).to.equal('closed');
      expect(model.tally(election).setAside.length, model.nodeId).to.be.greaterThan(0);
    }
  });

  it('a cast ballot stays: deleting, restoring and deleting ballots again after the close changes nothing', () => {
    const { erin, all, election, withdrawn, voters, before } = closedElection({ withdrawn: true });
    const ballots = erin.entities('Ballot', { includeDeleted: true }).filter((b) => b.getAttribute('voter') === voters[2]);
    const counted = ballots.find((b) => b.oid !== withdrawn)!.oid;
    erin.restore(withdrawn);
    erin.delete(withdrawn);
    erin.delete(counted);
    erin.restore(counted);
    erin.delete(counted);
    erin.delete(voters[2]);
    deliverAndExpect(all, election, before);
  });

  it('revoking the co-organiser who closed, or deleting the election, after the close changes nothing; the election stays listed', () => {
    const { alice, all, election, before } = closedElection();
    alice.removeCoOrganiser(election, device(BOB));
    alice.delete(election);
    deliverAndExpect(all, election, before);
    for (const model of all) expect(model.elections().map((e) => e.oid), model.nodeId).to.deep.equal([election]);
  });

  it('approvals, candidates and co-organisers added after the close do not count; a backdated ballot is cast after voting closed', () => {
    const { clock, alice, erin, all, election, before } = closedElection();
    // Alice's altered app adds a candidate and approves a late voter; a new co-organiser approves too.
    const late = alice.create('Candidate', { name: 'Late', election }).oid;
    alice.addChild(election, 'candidates', late);
    const frank = replica(nodeOf('frank'), clock, true);
    syncAll([...all, frank]);
    const franksVoter = frank.registerVoter({ name: 'Frank', voterNumber: 'V-9' }).oid;
    frank.addChild(franksVoter, 'elections', election);
    syncAll([...all, frank]);
    alice.create('Approval', { election, voter: franksVoter });
    alice.addCoOrganiser(election, device(ERIN));
    syncAll([...all, frank]);
    erin.create('Approval', { election, voter: franksVoter });
    syncAll([...all, frank]);
    // Frank's ballot names the round's opening; whatever it claims, the closing had not seen it.
    const opening = alice.votingHistory(election).rounds[0]!.openings[0]!.oid;
    (frank as unknown as { createManaged: ElectoralSystemModel['create'] }).createManaged('Ballot', {
      voter: franksVoter,
      election,
      candidate: late,
      castAt: '2024-05-01T08:00:01.001Z',
      opening,
    });
    syncAll([...all, frank]);
    const expected = result(alice.tally(election));
    expect(expected.results.slice(0, 2)).to.deep.equal(before.results);
    expect(expected.ballots.filter(([, status]) => status === 'counted').length).to.equal(3);
    for (const model of [...all, frank]) {
      expect(result(model.tally(election))).to.deep.equal(expected);
      const franks = model.tally(election).ballots.find((b) => b.voterId === franksVoter)!;
      // Frank registered after the close: for the closed round he does not exist.
      expect(franks.reason, model.nodeId).to.equal('voter-unknown');
    }
  });

  it('the honest app refuses such writes locally, in words', () => {
    const { carol, dave, election, ann, close } = closedElection();
    expectRule(() => dave.delete(close), 'locked', /Openings and closings of the election “Board” stay as they are; only the organiser can reopen voting/);
    expectRule(() => dave.delete(ann), 'locked', /Voting in the election “Board” has closed: its candidates stay as they are/);
    expectRule(() => dave.delete(election), 'locked', /the election and its result stay/);
    const ballot = carol.findBy('Ballot', 'election', election).find((b) => b.getAttribute('voter') === carol.myVoter()?.oid)!;
    expectRule(() => carol.delete(ballot.oid), 'locked', /A ballot cast in the election “Board” stays as it was cast/);
    expect(carol.localWriteProblem('Ballot', ballot.oid)).to.match(/stays as it was cast/);
  });

  it('concurrent closes by organiser and co-organiser, and a ballot racing them, resolve alike everywhere; the reopening is the only way on, and the history shows it', () => {
    const clock = fakeClock(Date.parse('2024-05-01T08:00:00Z'));
    const [alice, bob, carol, dave] = [ALICE, BOB, CAROL, DAVE].map((node) => replica(node, clock));
    const all = [alice!, bob!, carol!, dave!];
    const election = alice!.createElection({ title: 'Board' }).oid;
    const ann = alice!.addCandidate(election, { name: 'Ann' }).oid;
    alice!.addCoOrganiser(election, device(BOB));
    syncAll(all);
    const voters = [carol!, dave!].map((model, i) => {
      const voter = model.registerVoter({ name: `V${i}`, voterNumber: `V-${i}` }).oid;
      model.registerForElection(voter, election);
      return voter;
    });
    syncAll(all);
    for (const voter of voters) alice!.approveVoter(election, voter);
    alice!.openElection(election);
    syncAll(all);
    carol!.castBallot({ voterId: voters[0]!, electionId: election, candidateId: ann });
    sync(carol!, bob!);
    sync(carol!, alice!);
    // Dave's ballot reaches neither closer before they close, concurrently.
    dave!.castBallot({ voterId: voters[1]!, electionId: election, candidateId: ann });
    clock.advance(1000);
    const bobsClose = bob!.closeElection(election).oid;
    const alicesClose = alice!.closeElection(election).oid;
    // Every replica gets the events in another order.
    sync(dave!, carol!);
    sync(bob!, carol!);
    sync(alice!, carol!);
    sync(alice!, dave!);
    sync(bob!, dave!);
    syncAll(all);
    const first = result(alice!.tally(election));
    for (const model of all) {
      expect(result(model.tally(election))).to.deep.equal(first);
      const effects = Object.fromEntries(model.votingHistory(election).events.map((e) => [e.event.oid, e.effect]));
      // The organiser's closing decides (rank), the co-organiser's is recorded as ignored.
      expect(effects[alicesClose]).to.equal('closed');
      expect(effects[bobsClose]).to.equal('ignored');
    }
    expect(first.ballots.map(([, status, reason]) => [status, reason])).to.deep.equal([
      ['counted', null],
      ['invalid', 'after-closing'],
    ]);
    // Only the organiser reopens; Dave votes again in the new round and it counts once closed.
    expectRule(() => bob!.openElection(election), 'organiser', /only the organiser of this election can reopen/);
    clock.advance(1000);
    alice!.openElection(election);
    syncAll(all);
    clock.advance(1000);
    dave!.castBallot({ voterId: voters[1]!, electionId: election, candidateId: ann });
    syncAll(all);
    alice!.closeElection(election);
    syncAll(all);
    for (const model of all) {
      expect(model.tally(election).results.map((r) => r.votes)).to.deep.equal([2]);
      expect(model.votingHistory(election).events.map((e) => [e.action, e.effect])).to.deep.equal([
        ['open', 'opened'],
        ['close', 'closed'],
        ['close', 'ignored'],
        ['open', 'opened'],
        ['close', 'closed'],
      ]);
    }
  });
});
