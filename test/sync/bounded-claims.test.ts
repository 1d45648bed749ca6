import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { DeviceIdentity } from '../../src/security/index.js';
import { type SyncEngineEvent, SynchronizationEngine } from '../../src/sync/index.js';
import { testIdentities } from '../security/test-identities.js';
import { type SignedMember, signedMember } from './signed-member.js';
import { throughHooks } from './sync-peers.js';
import { ScriptedConnection } from '../security/scripted-connection.js';
import { eventually as until } from '../eventually.js';

const MODEL = 'election';
const quiet = { warn: () => {} };

type Member = SignedMember;
const member = (network: MemoryNetwork, identity: DeviceIdentity): Member => signedMember(network, identity, { modelId: MODEL });

const offences = (peer: Member): string[] =>
  peer.events.filter((event) => event.type === 'peer-offence').map((event) => (event as { reason: string }).reason);
const removed = (peer: Member, by: Member): boolean => peer.events.some((event) => event.type === 'peer-removed' && event.peerId === by.id);
const titles = (peer: Member): string[] =>
  peer.model
    .entities('Election')
    .map((election) => String(election.getAttribute('title')))
    .sort();

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Rewrites every JSON delta `mallory` sends with `rewrite`. */
function tampering(rewrite: (delta: Record<string, unknown>) => void) {
  return (bytes: Uint8Array): Uint8Array => {
    if (bytes[0] !== 0x7b) return bytes;
    const message = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    if (message.t !== 'delta') return bytes;
    rewrite(message);
    return encoder.encode(JSON.stringify(message));
  };
}

describe('claims bounded by signatures', () => {
  const identities = testIdentities('bounded-claims', ['alice', 'bob', 'carol', 'mallory']);
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('one delta claiming the organiser 100,000 operations ahead is refused, never adopted, and silences nobody', async () => {
    const [alice, bob, carol, mallory] = identities.map((identity) => member(network, identity)) as [Member, Member, Member, Member];
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    bob.engine.addConnection(await bob.transport.connect(carol.id));
    alice.model.createElection({ title: 'Board' });
    await until(() => titles(carol).length === 1);
    // Mallory, a member with a valid key, sends bob one delta of her own with a forged claim.
    const claimed = alice.model.version.get(alice.id) + 100_000;
    const connection = await mallory.transport.connect(bob.id);
    mallory.engine.addConnection(
      throughHooks(
        connection,
        tampering((delta) => {
          const packed = delta.packed as unknown[] | undefined;
          const batch = (delta.batch ?? undefined) as { version: Record<string, unknown> } | undefined;
          if (batch) batch.version[alice.id] = claimed;
          if (packed) (packed[3] as Record<string, unknown>)[alice.id] = claimed;
        }),
        (bytes) => bytes,
      ),
    );
    mallory.model.createElection({ title: 'Mallory’s' });
    await until(() => offences(bob).some((reason) => reason.includes('signed none past')));
    expect(bob.model.version.get(alice.id), 'the claim is not adopted').to.be.lessThan(claimed);
    expect(titles(bob)).to.deep.equal(['Board']);
    mallory.transport.close();
    // The organiser keeps writing; every honest replica gets it, and no honest peer is blamed.
    alice.model.createElection({ title: 'Treasurer' });
    await until(() => titles(carol).length === 2 && titles(bob).length === 2);
    expect(offences(alice)).to.deep.equal([]);
    expect(offences(carol)).to.deep.equal([]);
    expect(bob.model.version.get(alice.id)).to.equal(alice.model.version.get(alice.id));
    expect(removed(alice, bob) || removed(bob, alice)).to.equal(false, 'honest peers stay connected');
  });

  it('a relay whose author items were overwritten still proves its claim, so honest relays are never blamed', async () => {
    const [alice, bob, carol] = identities.slice(0, 3).map((identity) => member(network, identity)) as [Member, Member, Member];
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    const election = alice.model.createElection({ title: 'Draft' });
    await until(() => titles(bob).length === 1);
    // Alice's last operations are overwritten by later ones: what proves them is her frontier.
    for (let i = 0; i < 5; i++) alice.model.get(election.oid)!.setAttribute('title', `Draft ${i}`);
    await until(() => titles(bob)[0] === 'Draft 4');
    // Carol meets only bob, who holds alice's items only as overwritten registers.
    bob.engine.addConnection(await bob.transport.connect(carol.id));
    await until(() => carol.model.version.equals(alice.model.version));
    expect(titles(carol)).to.deep.equal(['Draft 4']);
    expect(offences(carol)).to.deep.equal([]);
  });
});

describe('removal only on signed evidence', () => {
  const identities = testIdentities('removal-evidence', ['alice', 'bob', 'carol', 'mallory']);
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  const candidates = (peer: Member, election: string): string[] =>
    peer.model.get(election) ? [...peer.model.candidates(election)].map((c) => String(c.getAttribute('name'))).sort() : [];

  /** Mallory's deltas carry an empty `candidates` relation of `election` and her whole version. */
  const erasing = (mallory: Member, election: string) =>
    tampering((delta) => {
      const batch = delta.batch as { version: unknown; changes: unknown[] } | undefined;
      if (!batch) return;
      batch.changes.push({ kind: 'children', entityType: 'Election', oid: election, relation: 'candidates', items: [] });
      batch.version = mallory.model.version.toJSON();
    });

  it('a delta with an empty relation and a context covering it removes nothing on honest replicas', async () => {
    const [alice, bob, carol, mallory] = identities.map((identity) => member(network, identity)) as [Member, Member, Member, Member];
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    bob.engine.addConnection(await bob.transport.connect(carol.id));
    const election = alice.model.createElection({ title: 'Board' });
    alice.model.addCandidate(election.oid, { name: 'Ada' });
    alice.model.addCandidate(election.oid, { name: 'Grace' });
    await until(() => candidates(carol, election.oid).length === 2);
    // Mallory, a member, has seen everything, then sends bob the empty relation.
    mallory.engine.addConnection(await mallory.transport.connect(carol.id));
    await until(() => mallory.model.version.includes(alice.model.version));
    mallory.engine.addConnection(throughHooks(await mallory.transport.connect(bob.id), erasing(mallory, election.oid), (bytes) => bytes));
    mallory.model.createElection({ title: 'Mallory’s' });
    await until(() => titles(bob).includes('Mallory’s'));
    expect(candidates(bob, election.oid)).to.deep.equal(['Ada', 'Grace']);
    expect(candidates(carol, election.oid)).to.deep.equal(['Ada', 'Grace']);
    // And honest replicas keep syncing with each other.
    alice.model.addCandidate(election.oid, { name: 'Hedy' });
    await until(() => candidates(carol, election.oid).length === 3);
    expect(candidates(bob, election.oid)).to.deep.equal(['Ada', 'Grace', 'Hedy']);
  });

  it('the organiser’s real removal still travels, also through a relay', async () => {
    const [alice, bob, carol] = identities.slice(0, 3).map((identity) => member(network, identity)) as [Member, Member, Member];
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    bob.engine.addConnection(await bob.transport.connect(carol.id));
    const election = alice.model.createElection({ title: 'Board' });
    const ada = alice.model.addCandidate(election.oid, { name: 'Ada' });
    alice.model.addCandidate(election.oid, { name: 'Grace' });
    await until(() => candidates(carol, election.oid).length === 2);
    alice.model.removeCandidate(election.oid, ada.oid);
    await until(() => candidates(carol, election.oid).length === 1 && candidates(bob, election.oid).length === 1);
    expect(candidates(carol, election.oid)).to.deep.equal(['Grace']);
    expect(JSON.stringify(carol.model.getSnapshot())).to.equal(JSON.stringify(alice.model.getSnapshot()));
    expect(offences(bob).concat(offences(carol))).to.deep.equal([]);
  });

  it('a relay that leaves a kept child out of a genuine removal removes only what the organiser removed', async () => {
    const [alice, bob, carol, mallory] = identities.map((identity) => member(network, identity)) as [Member, Member, Member, Member];
    // alice – mallory – bob – carol: everything of alice reaches bob and carol through mallory.
    alice.engine.addConnection(await alice.transport.connect(mallory.id));
    bob.engine.addConnection(await bob.transport.connect(carol.id));
    let omitted: string | undefined;
    let tampered = 0;
    mallory.engine.addConnection(
      throughHooks(
        await mallory.transport.connect(bob.id),
        tampering((delta) => {
          const batch = delta.batch as { changes: Array<Record<string, unknown>> } | undefined;
          for (const change of batch?.changes ?? []) {
            const items = change.items as Array<[string, unknown]> | undefined;
            if (!omitted || change.relation !== 'candidates' || !items?.some(([child]) => child === omitted)) continue;
            change.items = items.filter(([child]) => child !== omitted);
            tampered++;
          }
        }),
        (bytes) => bytes,
      ),
    );
    const election = alice.model.createElection({ title: 'Board' });
    const ada = alice.model.addCandidate(election.oid, { name: 'Ada' });
    const grace = alice.model.addCandidate(election.oid, { name: 'Grace' });
    await until(() => candidates(carol, election.oid).length === 2);
    // The organiser removes Grace and keeps Ada (her signed context covers Ada's add); mallory
    // relays the relation without Ada, with the organiser's genuine removal mark.
    omitted = ada.oid;
    alice.model.removeCandidate(election.oid, grace.oid);
    await until(() => candidates(bob, election.oid).length === 1 && candidates(carol, election.oid).length === 1);
    expect(tampered, 'mallory left Ada out of a relayed relation').to.be.greaterThan(0);
    expect(candidates(bob, election.oid)).to.deep.equal(['Ada']);
    expect(candidates(carol, election.oid)).to.deep.equal(['Ada']);
    // Honest replicas keep syncing, and end identical to the organiser.
    alice.model.addCandidate(election.oid, { name: 'Hedy' });
    await until(() => candidates(carol, election.oid).length === 2);
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    const snapshot = () => JSON.stringify(alice.model.getSnapshot().entities);
    await until(() => JSON.stringify(bob.model.getSnapshot().entities) === snapshot() && JSON.stringify(carol.model.getSnapshot().entities) === snapshot());
    expect(candidates(carol, election.oid)).to.deep.equal(['Ada', 'Hedy']);
    expect(offences(bob).concat(offences(carol), offences(alice))).to.deep.equal([]);
  });

  it('a register is never reverted by an old write with a context covering the newer one', async () => {
    const [alice, bob, mallory] = [identities[0]!, identities[1]!, identities[3]!].map((identity) => member(network, identity)) as [Member, Member, Member];
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    const election = alice.model.createElection({ title: 'Old title' });
    await until(() => titles(bob).length === 1);
    mallory.engine.addConnection(await mallory.transport.connect(alice.id));
    await until(() => mallory.model.version.includes(alice.model.version));
    const old = mallory.model.getEntityStates([election.oid])[0]!.attributes.title!;
    alice.model.get(election.oid)!.setAttribute('title', 'New title');
    await until(() => titles(bob)[0] === 'New title' && mallory.model.version.includes(alice.model.version));
    // Mallory resends the old (validly signed) write, claiming a context that covers the new one.
    mallory.engine.addConnection(
      throughHooks(
        await mallory.transport.connect(bob.id),
        tampering((delta) => {
          const batch = delta.batch as { version: unknown; changes: unknown[] } | undefined;
          if (!batch) return;
          batch.changes.push({ kind: 'attribute', entityType: 'Election', oid: election.oid, attribute: 'title', writes: old });
          batch.version = mallory.model.version.toJSON();
        }),
        (bytes) => bytes,
      ),
    );
    mallory.model.createElection({ title: 'Mallory’s' });
    await until(() => titles(bob).includes('Mallory’s'));
    expect(bob.model.get(election.oid)!.getAttribute('title')).to.equal('New title');
  });
});

describe('bounded verification work', () => {
  const identities = testIdentities('bounded-verification', ['alice', 'bob']);
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  it('refuses a delta with more certificates than items, or one certificate twice, without verifying them', async () => {
    const [alice, bob] = identities.map((identity) => member(network, identity)) as [Member, Member];
    let copies = 0;
    const connection = await alice.transport.connect(bob.id);
    alice.engine.addConnection(
      throughHooks(
        connection,
        tampering((delta) => {
          const certs = delta.certs as string[] | undefined;
          if (!certs?.length || copies) return;
          // The delta's own certificate, 100,000 times: 93 KB that once froze the page for 35 s.
          copies = 100_000;
          delta.certs = new Array<string>(copies).fill(certs[0]!);
        }),
        (bytes) => bytes,
      ),
    );
    const verifiedBefore = bob.engine.certification!.counters.verified;
    // What bob holds and verified when he refused it (the honest resend follows right after).
    let atRefusal: { verified: number; titles: string[] } | undefined;
    bob.engine.onEvent((event) => {
      if (event.type === 'peer-offence') atRefusal ??= { verified: bob.engine.certification!.counters.verified, titles: titles(bob) };
    });
    alice.model.createElection({ title: 'Board' });
    await until(() => atRefusal !== undefined);
    expect(offences(bob)[0]).to.match(/certificates for a delta of|the same certificate twice/);
    expect(atRefusal).to.deep.equal({ verified: verifiedBefore, titles: [] }, 'nothing verified, nothing changed');
    // Alice is honest (the copies were made on the way): her resend without them is taken.
    await until(() => titles(bob).length === 1);
  });

  it('an honest delta of many items is still taken (the bound counts items, not deltas)', async () => {
    const [alice, bob] = identities.map((identity) => member(network, identity)) as [Member, Member];
    for (let i = 0; i < 300; i++) alice.model.createElection({ title: `Election ${i}` });
    alice.engine.addConnection(await alice.transport.connect(bob.id));
    await until(() => bob.model.version.equals(alice.model.version));
    expect(titles(bob).length).to.equal(300);
    expect(offences(bob)).to.deep.equal([]);
  });
});

describe('offenders refused for a growing time', () => {
  const identities = testIdentities('offender-bans', ['alice', 'mallory']);

  it('refuses a peer disconnected for offences, and its other tabs, for a doubling time', async () => {
    const network = new MemoryNetwork();
    let now = 1_000_000;
    const [alice, mallory] = identities.map((identity) => member(network, identity)) as [Member, Member];
    const engine = new SynchronizationEngine({ nodeId: alice.id, antiEntropyIntervalMs: 0, logger: quiet, maxOffences: 2, bans: { now: () => now } });
    engine.registerModel(MODEL, alice.model);
    const events: SyncEngineEvent[] = [];
    engine.onEvent((event) => events.push(event));
    const garbage = new TextEncoder().encode('not json');
    const offend = async (tab: NodeId) => {
      const connection = new ScriptedConnection(tab);
      engine.addConnection(connection);
      connection.deliver(garbage);
      connection.deliver(garbage);
      await Promise.resolve();
      return connection;
    };
    const tab = mallory.id;
    expect((await offend(tab)).state).to.equal('closed');
    const reasons = () => events.filter((event) => event.type === 'peer-offence').map((event) => (event as { reason: string }).reason);
    expect(reasons().at(-1)).to.match(/refused for 30 s/);
    // A reconnect a moment later, and another tab of the same device, are refused at once.
    now += 1_000;
    const again = new ScriptedConnection(tab);
    engine.addConnection(again);
    expect(again.state).to.equal('closed');
    const otherTab = new ScriptedConnection(identities[1]!.newNodeId());
    engine.addConnection(otherTab);
    expect(otherTab.state).to.equal('closed');
    expect(reasons().at(-1)).to.match(/refused for \d+ s more/);
    // After the ban it may connect; offending again bans it for twice as long.
    now += 30_000;
    expect((await offend(tab)).state).to.equal('closed');
    expect(reasons().at(-1)).to.match(/refused for 60 s/);
    network.close();
  });
});
