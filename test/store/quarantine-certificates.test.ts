import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { type DeviceIdentity, decodeCertificate, isCertificateError } from '../../src/security/index.js';
import { certificateKey } from '../../src/store/certificate-key.js';
import { MemoryStorageAdapter } from '../../src/store/index.js';
import { testIdentities } from '../security/test-identities.js';
import { entitiesOf } from './election-model.js';
import { signingPeer } from './signing-peer.js';
import { eventually } from '../eventually.js';

const MODEL = 'election';
const quiet = { warn: () => {} };

describe('A damaged stored certificate comes back from a peer, so its items can be passed on again', () => {
  const identities = testIdentities('quarantine-certificates', ['alice', 'bob', 'carol']);
  let network: MemoryNetwork;
  const cleanups: Array<() => void> = [];

  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    network.close();
  });

  /** A signing peer; with `storage`, loaded from it before registration, as a room session does. */
  const peer = (identity: DeviceIdentity, id: NodeId, storage?: MemoryStorageAdapter) => signingPeer(network, identity, id, storage, cleanups);
  type Peer = Awaited<ReturnType<typeof peer>>;
  const link = async (a: Peer, b: Peer) => a.engine.addConnection(await a.transport.connect(b.id));
  const certifiedBy = (p: Peer, author: NodeId) => p.engine.certification!.store(MODEL).certificates().some((certificate) => certificate.node === author);

  it('bob reopens with alice\'s certificate damaged: it is kept aside, alice sends it again, and carol gets alice\'s items from bob', async () => {
    const [aliceKey, bobKey, carolKey] = identities as [DeviceIdentity, DeviceIdentity, DeviceIdentity];
    const bobId = bobKey.newNodeId();
    const room = new MemoryStorageAdapter();
    cleanups.push(() => room.close());
    const alice = await peer(aliceKey, aliceKey.newNodeId());
    const bob = await peer(bobKey, bobId, room.openAnother());
    alice.model.create('Candidate', { name: 'Ada' });
    await link(alice, bob);
    await eventually(() => entitiesOf(bob.model) === entitiesOf(alice.model) && certifiedBy(bob, alice.id));
    await bob.persistence!.whenSaved();
    bob.close();
    alice.transport.close();

    // Alice's certificate, as bob stored it, loses its tail.
    const stored = await room.load(MODEL);
    const hers = stored.certificates.filter((bytes) => {
      const certificate = decodeCertificate(bytes);
      return !isCertificateError(certificate) && certificate.node === alice.id;
    });
    expect(hers).to.have.length(1);
    room.putRaw({ store: 'certificates', modelId: MODEL, key: certificateKey(hers[0]!) }, hers[0]!.slice(0, 40));

    const bobAgain = await peer(bobKey, bobId, room.openAnother());
    expect(entitiesOf(bobAgain.model)).to.equal(entitiesOf(alice.model));
    expect(certifiedBy(bobAgain, alice.id), "bob holds a certificate of alice's before she sends it again").to.equal(false);
    expect(bobAgain.persistence!.problems.map((problem) => problem.kind)).to.deep.equal(['certificate']);
    // Bob no longer claims alice's items, so alice sends them again with her certificate.
    expect(bobAgain.model.version.maxSeen(alice.id)).to.equal(0);
    expect((await room.quarantined()).map((record) => record.kind)).to.deep.equal(['certificate']);

    const aliceBack = { ...alice, transport: new MemoryTransport(network, alice.id, { logger: quiet }) };
    aliceBack.transport.onConnection((connection) => alice.engine.addConnection(connection));
    cleanups.push(() => aliceBack.transport.close());
    await link(bobAgain, aliceBack);
    await eventually(() => certifiedBy(bobAgain, alice.id) && bobAgain.model.version.equals(alice.model.version));

    // Carol meets only bob, and gets alice's items with alice's signature.
    const carol = await peer(carolKey, carolKey.newNodeId());
    await link(carol, bobAgain);
    await eventually(() => entitiesOf(carol.model) === entitiesOf(alice.model));
    expect(carol.engine.certification!.counters.rejectedItems).to.equal(0);
  });
});
