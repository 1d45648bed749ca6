import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/version-vector.js';
import type { WorkSlicer } from '../../src/domain/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { DeviceIdentity } from '../../src/security/index.js';
import { type SyncEngineEvent, SynchronizationEngine } from '../../src/sync/index.js';
import { testIdentities } from '../security/test-identities.js';
import { type SyncPeer, canonical, inSyncWith, link, registerVoters, until } from './sync-peers.js';
import { countingSlicer } from '../counting-slicer.js';

const MODEL = 'election';
const SLICE = 100;
const quiet = { warn: () => {} };

/** Records how many changes each `applyChanges` call on `model` held. */
function watchApplies(model: ElectoralSystemModel): number[] {
  const sizes: number[] = [];
  const apply = model.applyChanges.bind(model);
  model.applyChanges = (input, options) => {
    sizes.push(Array.isArray(input) ? input.length : (input as { changes: readonly unknown[] }).changes.length);
    return apply(input, options);
  };
  return sizes;
}

/** A peer with an open-roles electoral model; signing with `identity` if given. */
function peer(network: MemoryNetwork, name: string, slicer?: WorkSlicer, identity?: DeviceIdentity): SyncPeer {
  const id = identity ? identity.newNodeId() : asNodeId(name);
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 0, logger: quiet, ...(slicer ? { slicer } : {}), ...(identity ? { signer: identity } : {}) });
  engine.registerModel(MODEL, model);
  const transport = new MemoryTransport(network, id, { logger: quiet });
  transport.onConnection((connection) => engine.addConnection(connection));
  const events: SyncEngineEvent[] = [];
  engine.onEvent((event) => events.push(event));
  return { id, model, engine, transport, events, warnings: [] };
}

describe('receiving a large delta a slice at a time', () => {
  const identities = testIdentities('sliced-receive', ['alice', 'bob']);
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  for (const signed of [false, true]) {
    it(`applies ${signed ? 'signed' : 'unsigned'} changes in slices of at most ${SLICE}, adopting the version only with the last one`, async function () {
      this.timeout(60_000);
      const alice = peer(network, 'alice', undefined, signed ? identities[0] : undefined);
      registerVoters(alice, 600);
      const wanted = alice.model.version;
      const total = alice.model.getChangesSince(new VersionVector()).length;
      let claimedEarly = 0;
      let bob: SyncPeer | undefined;
      const slicer = countingSlicer(SLICE, () => {
        // Between two slices: nothing of alice's version adopted yet, and bob's own edits go on.
        if (bob!.model.version.includes(wanted)) claimedEarly++;
      });
      bob = peer(network, 'bob', slicer, signed ? identities[1] : undefined);
      const sizes = watchApplies(bob.model);
      await link(bob, alice);
      await until(() => inSyncWith(bob!, alice) && inSyncWith(alice, bob!));
      expect(canonical(bob)).to.equal(canonical(alice));
      expect(Math.max(...sizes)).to.be.at.most(SLICE);
      // Every change went through a slice of at most SLICE (and verified items a hashing slice of as many).
      expect(sizes.reduce((sum, size) => sum + size, 0)).to.be.at.least(total);
      expect(slicer.pauses).to.be.at.least(Math.ceil(total / SLICE) - 1);
      expect(claimedEarly).to.equal(0);
      expect(bob.events.filter((event) => event.type === 'peer-offence')).to.deep.equal([]);
    });
  }

  it('a local edit between two slices travels and is kept', async function () {
    this.timeout(60_000);
    const alice = peer(network, 'alice');
    registerVoters(alice, 400);
    let bob: SyncPeer | undefined;
    let election: string | undefined;
    const slicer = countingSlicer(SLICE, (pauses) => {
      if (pauses === 2) election = bob!.model.createElection({ title: 'Meanwhile' }).oid;
    });
    bob = peer(network, 'bob', slicer);
    await link(bob, alice);
    await until(() => inSyncWith(bob!, alice) && inSyncWith(alice, bob!));
    expect(election).to.be.a('string');
    expect(alice.model.get(election!)?.getAttribute('title')).to.equal('Meanwhile');
    expect(canonical(bob)).to.equal(canonical(alice));
  });

  it('a peer gone between slices leaves what was applied, claims none of its version, and a new connection completes it', async function () {
    this.timeout(60_000);
    const alice = peer(network, 'alice');
    registerVoters(alice, 600);
    const wanted = alice.model.version;
    let bob: SyncPeer | undefined;
    const slicer = countingSlicer(SLICE, (pauses) => {
      if (pauses === 3) network.disconnect(bob!.id, alice.id);
    });
    bob = peer(network, 'bob', slicer);
    const sizes = watchApplies(bob.model);
    await link(bob, alice);
    await until(() => bob!.engine.peerStatus().length === 0);
    const appliedBeforeLoss = sizes.reduce((sum, size) => sum + size, 0);
    expect(appliedBeforeLoss).to.be.greaterThan(0);
    expect(bob.model.version).to.not.include(wanted);
    network.heal();
    await link(bob, alice);
    await until(() => inSyncWith(bob!, alice) && inSyncWith(alice, bob!));
    expect(canonical(bob)).to.equal(canonical(alice));
  });
});
