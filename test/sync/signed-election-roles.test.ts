import { expect } from 'chai';
import { deleteDB } from 'idb';
import { BallotReason, BallotStatus } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { DeviceIdentity } from '../../src/security/index.js';
import { Hostile } from '../models/electoral/roles-fixture.js';
import { type SignedMember, signedMember } from './signed-member.js';
import { eventually as until } from '../eventually.js';
import { expectSome } from '../expectations.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

const MODEL = 'election-2024';

type Member = SignedMember;
const member = (network: MemoryNetwork, identity: DeviceIdentity, hostile = false): Member => signedMember(network, identity, { modelId: MODEL, hostile });

async function quiesce(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

const offences = (peer: Member) => peer.events.filter((e) => e.type === 'peer-offence').map((e) => (e as { reason: string }).reason);

describe('election roles between signing engines', () => {
  const dbNames = ['alice', 'bob', 'carol', 'mallory'].map((name) => `signed-roles-${name}-${Math.random().toString(36).slice(2)}`);
  let network: MemoryNetwork;
  after(async () => {
    network.close();
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });

  it('a member with a valid key cannot edit another organiser election, approve itself or vote for another voter; every replica tallies alike', async () => {
    network = new MemoryNetwork();
    const keys = await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))));
    const [alice, bob, carol] = keys.slice(0, 3).map((key) => member(network, key!));
    const mallory = member(network, keys[3]!, true);
    const all = [alice!, bob!, carol!, mallory];
    const honest = [alice!, bob!, carol!];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) all[i]!.engine.addConnection(await all[i]!.transport.connect(all[j]!.id));
    const converged = (peers: Member[]) => peers.every((peer) => peer.model.version.equals(alice!.model.version));

    // The honest flow: alice organises, bob and carol register themselves, alice approves, they vote.
    const election = alice!.model.createElection({ title: 'Board' }).oid;
    const ann = alice!.model.addCandidate(election, { name: 'Ann' }).oid;
    const ben = alice!.model.addCandidate(election, { name: 'Ben' }).oid;
    await until(() => converged(all));
    const bobsVoter = bob!.model.registerVoter({ name: 'Bob', voterNumber: 'V-1' }).oid;
    bob!.model.registerForElection(bobsVoter, election);
    const carolsVoter = carol!.model.registerVoter({ name: 'Carol', voterNumber: 'V-2' }).oid;
    carol!.model.registerForElection(carolsVoter, election);
    await until(() => alice!.model.pendingVoters(election).count === 2);
    alice!.model.approveVoter(election, bobsVoter);
    alice!.model.approveVoter(election, carolsVoter);
    alice!.model.openElection(election);
    await until(() => converged(all));
    bob!.model.castBallot({ voterId: bobsVoter, electionId: election, candidateId: ann });
    carol!.model.castBallot({ voterId: carolsVoter, electionId: election, candidateId: ben });
    await until(() => converged(all));
    const before = honest.map((peer) => JSON.stringify(peer.model.getEntityStates([election])));

    // Mallory, with a perfectly valid signature of her own: each attack reaches every replica.
    const hostile = mallory.model as Hostile;
    hostile.update(election, { title: 'Mallory decides' });
    // Signed on its own (edits of one event-loop turn share a certificate).
    await quiesce();
    const malloryVoter = hostile.registerVoter({ name: 'Mallory', voterNumber: 'V-666' }).oid;
    hostile.addChild(election, 'approvedVoters', malloryVoter);
    const stolen = hostile.forge('Ballot', { voter: bobsVoter, election, candidate: ben, castAt: new Date().toISOString(), channel: 'online' }).oid;
    await until(() => honest.every((peer) => peer.model.get(stolen) !== undefined));
    await quiesce();

    for (const [index, peer] of honest.entries()) {
      // Her election edit and self-approval were refused everywhere; the election is as alice left it.
      expect(peer.model.get(election)!.getAttribute('title'), peer.id).to.equal('Board');
      expect(peer.model.isApproved(election, malloryVoter), peer.id).to.equal(false);
      expect(JSON.stringify(peer.model.getEntityStates([election])), peer.id).to.equal(before[index]);
      // Her ballot for bob's voter exists (she owns it) but never counts: it is not from bob's device.
      const tally = peer.model.tally(election);
      const verdict = tally.ballots.find((ballot) => ballot.ballotId === stolen)!;
      expect(verdict.status, peer.id).to.equal(BallotStatus.invalid);
      expect(verdict.reason, peer.id).to.equal(BallotReason.notVotersDevice);
      expect(tally.results.map((result) => [result.name, result.votes])).to.deep.equal([
        ['Ann', 1],
        ['Ben', 1],
      ]);
    }
    // The certificate of a refused change is not kept: it vouches for nothing held.
    const titleWrite = hostile.getEntityStates([election])[0]!.attributes.title![0]!;
    expect(titleWrite.dot.node).to.equal(mallory.id);
    for (const peer of honest) expect(peer.engine.certification!.store(MODEL).certificateOf(titleWrite.dot), peer.id).to.equal(undefined);
    // Every replica reached the same result, and the refusals were reported with the reason.
    const tallies = honest.map((peer) => JSON.stringify(peer.model.tally(election)));
    expect(new Set(tallies).size).to.equal(1);
    for (const peer of honest) expectSome(offences(peer), (reason) => reason.includes('may change Election'), peer.id);
  });
});
