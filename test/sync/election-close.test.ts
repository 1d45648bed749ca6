import { expect } from 'chai';
import { deleteDB } from 'idb';
import {
  BallotReason,
  BallotStatus,
  MemoryElectionKeyStore,
  type Tally,
  VotingEventEffect,
  exportPrivateKey,
  generateElectionKeyPair,
  openSealedElection,
  publishHeldKeys,
  sealChoice,
  unsealElection,
} from '../../src/models/electoral/index.js';
import { ownedOid } from '../../src/domain/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { DeviceIdentity } from '../../src/security/index.js';
import { exportRoom } from '../../src/store/room-file.js';
import { Hostile } from '../models/electoral/roles-fixture.js';
import { type SignedMember, signedMember } from './signed-member.js';
import { eventually as until } from '../eventually.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

const MODEL = 'election-2024';

type Member = SignedMember;
const member = (network: MemoryNetwork, identity: DeviceIdentity, hostile = false): Member => signedMember(network, identity, { modelId: MODEL, hostile });

async function connectAll(members: readonly Member[]): Promise<void> {
  for (let i = 0; i < members.length; i++)
    for (let j = i + 1; j < members.length; j++) members[i]!.engine.addConnection(await members[i]!.transport.connect(members[j]!.id));
}

const converged = (members: readonly Member[]) => members.every((m) => m.model.version.equals(members[0]!.model.version));

// What a tally decided, without the entity handles of its history: equal on every replica holding the same changes.
const decided = (tally: Tally) =>
  JSON.stringify({
    status: tally.status,
    results: tally.results,
    ballots: tally.ballots,
    counted: tally.counted,
    sealed: tally.sealed,
    keyProblems: tally.keyProblems,
    events: tally.history.events.map((e) => [e.event.oid, e.effect, e.detail ?? '']),
  });
// The result a close seals: the votes and which ballots made them (late ballots are listed as well, not counted).
const outcome = (tally: Tally) => JSON.stringify({ results: tally.results, counted: tally.ballots.filter((b) => b.status === BallotStatus.counted) });
const votes = (tally: Tally) => tally.results.map((r) => [r.name, r.votes]);
const verdictOf = (tally: Tally, ballot: string) => tally.ballots.find((b) => b.ballotId === ballot)!;

describe('closing an election seals the count, between signing engines', function () {
  this.timeout(60_000);
  const dbNames: string[] = [];
  let network: MemoryNetwork;
  afterEach(() => network?.close());
  after(() => Promise.all(dbNames.map((name) => deleteDB(name))));

  async function room(names: readonly string[], hostile: readonly string[] = []) {
    network = new MemoryNetwork();
    const members = await Promise.all(
      names.map(async (name) => {
        const db = `election-close-${name}-${Math.random().toString(36).slice(2)}`;
        dbNames.push(db);
        return member(network, await DeviceIdentity.load(new IndexedDbDeviceKeyStore(db)), hostile.includes(name));
      }),
    );
    await connectAll(members);
    return members;
  }

  // alice organises (dave co-organises if there); each voter registers itself and alice approves it.
  async function election(members: Member[], voters: readonly Member[], options: { sealed?: boolean; coOrganiser?: Member } = {}) {
    const alice = members[0]!;
    const electionId = alice.model.createElection({ title: 'Board', sealed: options.sealed }).oid;
    const ann = alice.model.addCandidate(electionId, { name: 'Ann' }).oid;
    const ben = alice.model.addCandidate(electionId, { name: 'Ben' }).oid;
    if (options.coOrganiser) alice.model.addCoOrganiser(electionId, options.coOrganiser.model.deviceId!);
    await until(() => converged(members));
    const voterOf = new Map<Member, string>();
    for (const [i, voter] of voters.entries()) {
      const id = voter.model.registerVoter({ name: `Voter ${i}`, voterNumber: `V-${i}` }).oid;
      voter.model.registerForElection(id, electionId);
      voterOf.set(voter, id);
    }
    await until(() => alice.model.pendingVoters(electionId).count === voters.length);
    for (const id of voterOf.values()) alice.model.approveVoter(electionId, id);
    await until(() => converged(members));
    return { electionId, ann, ben, voterOf };
  }

  async function reconnect(members: Member[]) {
    network.heal();
    await connectAll(members);
    await until(() => converged(members));
  }

  it('a backdated ballot after the close, a second ballot, one racing the close, one before the opening and a forged opening change nothing', async () => {
    const members = await room(['alice', 'bob', 'carol'], ['bob']);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const { electionId, ann, ben, voterOf } = await election(members, [bob, carol]);
    const hostile = bob.model as Hostile;
    const bobsVoter = voterOf.get(bob)!;

    // Before the opening: a ballot naming no opening, and one naming an opening bob forged himself.
    const early = hostile.forge('Ballot', { voter: bobsVoter, election: electionId, candidate: ben, castAt: '2030-01-01T00:00:00.000Z' }).oid;
    const forged = hostile.forge('VotingEvent', { election: electionId, action: 'open', at: '2020-01-01T00:00:00.000Z', context: '{}' }).oid;
    const underForged = hostile.forge('Ballot', { voter: bobsVoter, election: electionId, candidate: ben, castAt: '2030-01-01T00:00:00.000Z', opening: forged }).oid;
    await until(() => converged(members));
    expect(alice.model.statusOf(electionId)).to.equal('draft');

    const opening = alice.model.openElection(electionId);
    await until(() => converged(members));
    // Bob's own replica keeps no rules (it takes his forged opening for real), so he forges even his honest ballot.
    const counted = hostile.forge('Ballot', { voter: bobsVoter, election: electionId, candidate: ann, castAt: new Date().toISOString(), opening: opening.oid }).oid;
    await until(() => converged(members));

    // Alice closes while carol, cut off, votes (racing the close), and bob, cut off too, backdates a second ballot.
    network.partition([alice.id], [bob.id], [carol.id]);
    alice.model.closeElection(electionId);
    const closedResult = outcome(alice.model.tally(electionId));
    expect(votes(alice.model.tally(electionId))).to.deep.equal([['Ann', 1], ['Ben', 0]]);
    const racing = carol.model.castBallot({ voterId: voterOf.get(carol)!, electionId, candidateId: ben }).oid;
    const backdatedAt = new Date(Date.parse(String(opening.getAttribute('at'))) + 1).toISOString();
    const second = hostile.forge('Ballot', { voter: bobsVoter, election: electionId, candidate: ben, castAt: backdatedAt, opening: opening.oid }).oid;
    await reconnect(members);

    // Every honest replica (bob's keeps no rules: it takes his own opening for real).
    const honest = [alice, carol];
    for (const peer of honest) {
      const tally = peer.model.tally(electionId);
      expect(outcome(tally), peer.id).to.equal(closedResult);
      expect(decided(tally), peer.id).to.equal(decided(alice.model.tally(electionId)));
      expect(verdictOf(tally, counted).status).to.equal(BallotStatus.counted);
      for (const late of [racing, second]) expect(verdictOf(tally, late), peer.id).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.afterClosing });
      expect(verdictOf(tally, second).detail).to.match(/cast after voting closed/);
      for (const before of [early, underForged]) expect(verdictOf(tally, before)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.beforeOpening });
      expect(tally.history.events.find((e) => e.event.oid === forged)!.effect).to.equal(VotingEventEffect.notAuthorised);
    }

    // After the close bob deletes his counted ballot and withdraws his registration: the result stays.
    hostile.delete(counted);
    hostile.removeChild(bobsVoter, 'elections', electionId);
    await until(() => converged(members));
    for (const peer of honest) expect(outcome(peer.model.tally(electionId)), peer.id).to.equal(closedResult);
  });

  it('concurrent closes by organiser and co-organiser resolve alike; the organiser reopens as an audited round', async () => {
    const members = await room(['alice', 'bob', 'carol', 'dave']);
    const [alice, bob, carol, dave] = members as [Member, Member, Member, Member];
    const { electionId, ann, ben, voterOf } = await election(members, [bob, carol], { coOrganiser: dave });
    alice.model.openElection(electionId);
    await until(() => converged(members));

    // Carol's ballot reaches only alice, bob's only dave; both close at once.
    network.partition([alice.id, carol.id], [bob.id, dave.id]);
    const carols = carol.model.castBallot({ voterId: voterOf.get(carol)!, electionId, candidateId: ann }).oid;
    const bobs = bob.model.castBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ben }).oid;
    await until(() => alice.model.get(carols) !== undefined && dave.model.get(bobs) !== undefined);
    const alicesClose = alice.model.closeElection(electionId).oid;
    const davesClose = dave.model.closeElection(electionId).oid;
    expect(votes(dave.model.tally(electionId))).to.deep.equal([['Ben', 1], ['Ann', 0]]);
    const organisersResult = outcome(alice.model.tally(electionId));
    await reconnect(members);

    // The organiser's closing decides, on every replica, whatever arrived first.
    const tallies = members.map((peer) => decided(peer.model.tally(electionId)));
    expect(new Set(tallies).size).to.equal(1);
    const tally = alice.model.tally(electionId);
    expect(votes(tally)).to.deep.equal([['Ann', 1], ['Ben', 0]]);
    expect(verdictOf(tally, bobs)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.afterClosing });
    const effects = Object.fromEntries(tally.history.events.map((e) => [e.event.oid, e.effect]));
    expect(effects[alicesClose]).to.equal(VotingEventEffect.closed);
    expect(effects[davesClose]).to.equal(VotingEventEffect.ignored);
    expect(outcome(tally)).to.equal(organisersResult);

    // A co-organiser cannot reopen; the organiser can, and bob votes in the new round.
    expect(() => dave.model.openElection(electionId)).to.throw(/only the organiser of this election can reopen/);
    alice.model.openElection(electionId);
    await until(() => converged(members));
    const bobsAgain = bob.model.castBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ben }).oid;
    await until(() => converged(members));
    alice.model.closeElection(electionId);
    await until(() => converged(members));
    const final = members.map((peer) => decided(peer.model.tally(electionId)));
    expect(new Set(final).size).to.equal(1);
    const reopened = alice.model.tally(electionId);
    expect(votes(reopened)).to.deep.equal([['Ann', 1], ['Ben', 1]]);
    expect(verdictOf(reopened, bobsAgain).status).to.equal(BallotStatus.counted);
    expect(reopened.history.rounds.length).to.equal(2);
    expect(reopened.history.events.map((e) => e.effect)).to.deep.equal(['opened', 'closed', 'ignored', 'opened', 'closed']);
  });

  it('sealed ballots: no other member holds a choice before the close; after it every device opens and tallies alike', async () => {
    const members = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const keys = new MemoryElectionKeyStore();
    const { electionId, ann, ben, voterOf } = await election(members, [bob, carol], { sealed: true });
    expect(() => alice.model.openElection(electionId)).to.throw(/sealed election opens with a key/);
    await openSealedElection(alice.model, electionId, keys);
    await until(() => converged(members));
    expect(() => bob.model.castBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ann })).to.throw(/castSealedBallot/);
    const bobs = (await bob.model.castSealedBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ann })).oid;
    const carols = (await carol.model.castSealedBallot({ voterId: voterOf.get(carol)!, electionId, candidateId: ben })).oid;
    await until(() => converged(members));

    // Nowhere but in the candidates themselves: not in any state, stored entity or room file, the voters' own included.
    const candidates = new Set([ann, ben, electionId]);
    for (const peer of members) {
      const outsideCandidates = peer.model.getEntityStates().filter((state) => !candidates.has(state.oid));
      const file = exportRoom('room', [peer.model], { certification: peer.engine.certification });
      const fileBallots = file.models[0]!.entities.filter((state) => state.entityType === 'Ballot');
      for (const text of [JSON.stringify(outsideCandidates), JSON.stringify(fileBallots)]) {
        expect(text, peer.id).to.not.include(ann);
        expect(text, peer.id).to.not.include(ben);
      }
      const open = peer.model.tally(electionId);
      expect(open).to.deep.include({ counted: 0, sealed: 2 });
      expect((await unsealElection(peer.model, electionId)).choices.size).to.equal(0);
    }
    expect(() => alice.model.publishRoundKey(electionId, alice.model.votingHistory(electionId).rounds[0]!.openings[0]!.oid, 'x')).to.throw(/after it closed/);

    alice.model.closeElection(electionId);
    expect(alice.model.tally(electionId)).to.deep.include({ counted: 0, sealed: 2 });
    expect(await publishHeldKeys(alice.model, keys)).to.equal(1);
    expect(await publishHeldKeys(alice.model, keys)).to.equal(0);
    await until(() => converged(members));
    const tallies: string[] = [];
    for (const peer of members) {
      const tally = peer.model.tally(electionId, await unsealElection(peer.model, electionId));
      expect(votes(tally), peer.id).to.deep.equal([['Ann', 1], ['Ben', 1]]);
      expect(tally.keyProblems).to.deep.equal([]);
      expect(verdictOf(tally, bobs).candidateId).to.equal(ann);
      expect(verdictOf(tally, carols).candidateId).to.equal(ben);
      tallies.push(decided(tally));
    }
    expect(new Set(tallies).size).to.equal(1);
  });

  it('a published key that does not open the ballots is reported on every device, never counted', async () => {
    const members = await room(['alice', 'bob', 'carol'], ['carol']);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const keys = new MemoryElectionKeyStore();
    const { electionId, ann, voterOf } = await election(members, [bob, carol], { sealed: true });
    const opening = await openSealedElection(alice.model, electionId, keys);
    await until(() => converged(members));
    const bobs = (await bob.model.castSealedBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ann })).oid;
    // Carol's device writes a sealed choice that is no ciphertext at all.
    const garbage = (carol.model as Hostile).forge('Ballot', {
      voter: voterOf.get(carol)!,
      election: electionId,
      castAt: new Date().toISOString(),
      opening: opening.oid,
      sealed: 'v1.AAAA.AAAA.AAAA',
    }).oid;
    await until(() => converged(members));
    alice.model.closeElection(electionId);
    // The organiser's device publishes a key, but not the round's.
    alice.model.publishRoundKey(electionId, opening.oid, await exportPrivateKey((await generateElectionKeyPair()).privateKey));
    await until(() => converged(members));
    for (const peer of members) {
      const unsealed = await unsealElection(peer.model, electionId);
      const tally = peer.model.tally(electionId, unsealed);
      expect(tally.keyProblems.join(' '), peer.id).to.match(/not the key its ballots were sealed to/);
      expect(tally.counted).to.equal(0);
      for (const ballot of [bobs, garbage]) expect(verdictOf(tally, ballot), peer.id).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.unreadable });
    }

    // With the right key, the honest ballot opens and carol's garbage is reported, alone.
    const round = alice.model.votingHistory(electionId).rounds[0]!;
    const right = await keys.get(round.sealKey!);
    alice.model.publishRoundKey(electionId, opening.oid, await exportPrivateKey(right!));
    await until(() => converged(members));
    for (const peer of members) {
      const tally = peer.model.tally(electionId, await unsealElection(peer.model, electionId));
      expect(tally.counted, peer.id).to.equal(1);
      expect(verdictOf(tally, garbage)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.unreadable });
      expect(tally.keyProblems.join(' ')).to.include(garbage).and.to.match(/a second, wrong key/);
    }
  });

  it('hostile voters in a sealed election: a copied sealed choice, a plain choice, a sealed non-candidate and a second sealed ballot change nothing', async () => {
    const members = await room(['alice', 'bob', 'carol', 'dave', 'erin'], ['carol', 'dave', 'erin']);
    const [alice, bob, carol, dave, erin] = members as [Member, Member, Member, Member, Member];
    const keys = new MemoryElectionKeyStore();
    const { electionId, ann, ben, voterOf } = await election(members, [bob, carol, dave, erin], { sealed: true });
    const opening = await openSealedElection(alice.model, electionId, keys);
    const sealKey = String(opening.getAttribute('sealKey'));
    await until(() => converged(members));
    const bobs = (await bob.model.castSealedBallot({ voterId: voterOf.get(bob)!, electionId, candidateId: ben })).oid;
    await until(() => converged(members));
    // A hostile voter's own ballot, written with whatever choice fields it likes.
    const forge = async (m: Member, fields: { sealedFor?: string; sealed?: string; candidate?: string }) => {
      const oid = ownedOid(m.id);
      const voter = voterOf.get(m)!;
      const sealed = fields.sealedFor ? await sealChoice(sealKey, fields.sealedFor, { election: electionId, opening: opening.oid, voter, ballot: oid }) : fields.sealed;
      const values = { voter, election: electionId, castAt: new Date().toISOString(), opening: opening.oid, ...(sealed ? { sealed } : {}), ...(fields.candidate ? { candidate: fields.candidate } : {}) };
      return (m.model as Hostile).forge('Ballot', values, oid).oid;
    };
    // Carol copies Bob's sealed choice (she cannot read it, but would vote as he did).
    const copied = await forge(carol, { sealed: String(bob.model.get(bobs)!.getAttribute('sealed')) });
    // Dave writes his choice in plain, for all to see and for live counting.
    const plain = await forge(dave, { candidate: ann });
    // Erin seals a choice for a "candidate" the organiser never put up, then two valid ballots.
    const notStanding = await forge(erin, { sealedFor: ownedOid(erin.id) });
    const second = await forge(erin, { sealedFor: ann });
    const third = await forge(erin, { sealedFor: ben });
    await until(() => converged(members));
    for (const peer of [alice, bob]) {
      const open = peer.model.tally(electionId);
      expect(open.counted, peer.id).to.equal(0);
      expect(verdictOf(open, plain), peer.id).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.wrongForm });
    }

    alice.model.closeElection(electionId);
    expect(await publishHeldKeys(alice.model, keys)).to.equal(1);
    await until(() => converged(members));
    const tallies: string[] = [];
    for (const peer of [alice, bob]) {
      const tally = peer.model.tally(electionId, await unsealElection(peer.model, electionId));
      expect(votes(tally), peer.id).to.deep.equal([['Ann', 1], ['Ben', 1]]);
      expect(verdictOf(tally, bobs).status).to.equal(BallotStatus.counted);
      expect(verdictOf(tally, copied)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.unreadable });
      expect(verdictOf(tally, plain)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.wrongForm });
      expect(verdictOf(tally, notStanding)).to.deep.include({ status: BallotStatus.invalid, reason: BallotReason.candidateNotStanding });
      // A choice of no standing candidate is no vote; of her valid ballots the first counts, the other is superseded.
      expect(verdictOf(tally, second)).to.deep.include({ status: BallotStatus.counted, candidateId: ann });
      expect(verdictOf(tally, third)).to.deep.include({ status: BallotStatus.superseded, reason: BallotReason.superseded });
      const counted = tally.ballots.filter((b) => b.status === BallotStatus.counted).map((b) => b.voterId);
      expect(new Set(counted).size, 'one counted ballot per voter').to.equal(counted.length);
      tallies.push(decided(tally));
    }
    expect(new Set(tallies).size).to.equal(1);
  });
});
