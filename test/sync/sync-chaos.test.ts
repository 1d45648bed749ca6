import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { seededRandom } from '../seeded-random.js';
import { type SyncPeer, canonical, eventsOf, inSyncWith, link, messageType, settle, syncPeer, throughHooks, until } from './sync-peers.js';

/**
 * Loses deltas, acks and version messages, both ways, when `lose()` says so. Only messages a
 * reliable channel could lose with the connection staying up in a buggy transport; a lost hello
 * would leave the connection unusable, which is not what is tested.
 */
function lossy(connection: PeerConnection, lose: () => boolean): PeerConnection {
  const maybeLost = (bytes: Uint8Array) => {
    const type = messageType(bytes);
    return (type === 'delta' || type === 'ack' || type === 'version') && lose() ? undefined : bytes;
  };
  return throughHooks(connection, maybeLost, maybeLost);
}

/** One random edit by `peer`; some are refused by the model's rules, which is fine. */
function randomEdit(peer: SyncPeer, random: () => number, counter: { n: number }): void {
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const model = peer.model;
  const elections = model.entities('Election').toArray();
  const voters = model.entities('Voter').toArray();
  const n = ++counter.n;
  try {
    switch (Math.floor(random() * 8)) {
      case 0:
        model.createElection({ title: `Election ${peer.id} ${n}` });
        break;
      case 1:
        model.registerVoter({ name: `Voter ${n}`, voterNumber: `${peer.id}-${n}` });
        break;
      case 2: {
        const election = pick(elections);
        if (election) model.update(election.oid, { title: `Title ${peer.id} ${n}` });
        break;
      }
      case 3: {
        const election = pick(elections);
        if (election) model.addCandidate(election.oid, { name: `Candidate ${n}` });
        break;
      }
      case 4: {
        const voter = pick(voters);
        const election = pick(elections);
        if (voter && election) model.registerForElection(voter.oid, election.oid);
        break;
      }
      case 5: {
        const voter = pick(voters);
        const election = voter && pick(voter.childOids('elections'));
        if (voter && election) model.unregisterFromElection(voter.oid, election);
        break;
      }
      case 6: {
        const voter = pick(voters);
        if (voter) model.delete(voter.oid);
        break;
      }
      default: {
        const voter = pick(voters);
        if (voter) model.update(voter.oid, { district: `District ${n % 7}` });
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'ValidationError') throw error;
  }
}

describe('SynchronizationEngine: random edits, partitions and lost messages', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    it(`every replica converges once the network is whole again (seed ${seed})`, async function () {
      this.timeout(60_000);
      const random = seededRandom(seed);
      const network = new MemoryNetwork();
      const options = { antiEntropyIntervalMs: 5, maxChangesPerMessage: 7 };
      const peers = ['alice', 'bob', 'carol'].map((name) => syncPeer(network, name, options));
      let losing = true;
      const connectMissing = async () => {
        for (let i = 0; i < peers.length; i++)
          for (let j = i + 1; j < peers.length; j++) {
            const [a, b] = [peers[i]!, peers[j]!];
            if (!a.engine.peerStatus().some((status) => status.peerId === b.id) && network.canReach(a.id, b.id))
              await link(a, b, (connection) => lossy(connection, () => losing && random() < 0.2));
          }
      };
      await connectMissing();
      const counter = { n: 0 };
      for (let round = 0; round < 40; round++) {
        const edits = 1 + Math.floor(random() * 4);
        for (let e = 0; e < edits; e++) randomEdit(peers[Math.floor(random() * peers.length)]!, random, counter);
        const roll = random();
        if (roll < 0.1) {
          const alone = peers[Math.floor(random() * peers.length)]!;
          network.partition([alone.id], peers.filter((p) => p !== alone).map((p) => p.id));
        } else if (roll < 0.25) {
          network.heal();
          await settle();
          await connectMissing();
        }
        if (random() < 0.2) peers[Math.floor(random() * peers.length)]!.engine.start();
        await settle();
      }
      losing = false;
      network.heal();
      await settle();
      await connectMissing();
      for (const peer of peers) peer.engine.start();
      const [alice, bob, carol] = peers as [SyncPeer, SyncPeer, SyncPeer];
      await until(
        () =>
          canonical(alice) === canonical(bob) &&
          canonical(bob) === canonical(carol) &&
          inSyncWith(alice, bob) &&
          inSyncWith(bob, carol) &&
          inSyncWith(carol, alice),
      );
      for (const peer of peers) peer.engine.stop();
      network.close();
      const operations = peers.reduce((sum, peer) => sum + alice.model.version.get(peer.id), 0);
      expect(operations).to.be.greaterThan(50);
      for (const peer of peers) expect(eventsOf(peer, 'peer-offence')).to.deep.equal([]);
      expect(JSON.stringify(alice.model.conflicts)).to.equal(JSON.stringify(carol.model.conflicts));
    });
  }
});
