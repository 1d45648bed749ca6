import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import type { VersionVector } from '../../src/crdt/index.js';
import type { EntityState } from '../../src/domain/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { MemoryStorageAdapter, ModelPersistence } from '../../src/store/index.js';
import { SynchronizationEngine } from '../../src/sync/index.js';
import { MODEL, settle, until } from './sync-peers.js';

/**
 * Memory storage whose commits wait until the test lets them through, so a test can look at
 * what left a device while its changes were not yet stored, and "crash" it right then.
 */
class GatedStorage extends MemoryStorageAdapter {
  readonly #held: Array<(commit: boolean) => void> = [];
  gated = false;

  override async merge(modelId: string, entities: readonly EntityState[], version: VersionVector, certificates?: readonly Uint8Array[]): Promise<number> {
    if (this.gated && !(await new Promise<boolean>((resolve) => this.#held.push(resolve)))) return new Promise(() => undefined);
    return super.merge(modelId, entities, version, certificates);
  }

  /** Lets every held commit through. */
  release(): void {
    this.gated = false;
    for (const resolve of this.#held.splice(0)) resolve(true);
  }

  /** The process died: held commits never happen. */
  drop(): void {
    this.gated = false;
    for (const resolve of this.#held.splice(0)) resolve(false);
  }

  get waiting(): number {
    return this.#held.length;
  }
}

interface Device {
  readonly model: ElectoralSystemModel;
  readonly engine: SynchronizationEngine;
  readonly persistence: ModelPersistence;
  readonly transport: MemoryTransport;
}

/** A device `name` on `network` whose model lives in `storage` (loaded from it first). */
async function device(network: MemoryNetwork, name: string, storage: MemoryStorageAdapter, antiEntropyIntervalMs = 0): Promise<Device> {
  const id = asNodeId(name);
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
  const persistence = new ModelPersistence(model, storage, { saveDelayMs: 0 });
  await persistence.load();
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs, logger: { warn: () => {} } });
  engine.registerModel(MODEL, model, { durability: persistence });
  engine.start();
  const transport = new MemoryTransport(network, id, { logger: { warn: () => {} } });
  transport.onConnection((connection) => engine.addConnection(connection));
  return { model, engine, persistence, transport };
}

async function connect(a: Device, b: Device): Promise<void> {
  a.engine.addConnection(await a.transport.connect(b.model.nodeId));
  await settle();
}

/** Simulates the process dying: nothing more is saved or sent; storage keeps what was committed. */
function crash(device: Device): void {
  device.persistence.close();
  device.engine.stop();
  device.transport.close();
}

const titles = (device: Device): string[] =>
  device.model
    .entities('Election')
    .map((election) => String(election.getAttribute('title')))
    .sort();

/** Alice and Bob connected; Bob's saves wait until the test releases them. */
async function withBobSavingHeld(): Promise<{ network: MemoryNetwork; alice: Device; bob: Device; bobStorage: GatedStorage }> {
  const network = new MemoryNetwork();
  const alice = await device(network, 'alice', new GatedStorage());
  const bobStorage = new GatedStorage();
  const bob = await device(network, 'bob', bobStorage);
  await connect(alice, bob);
  bobStorage.gated = true;
  return { network, alice, bob, bobStorage };
}

describe('Durable before visible', () => {
  it('sends an own edit only once the save holding it committed', async () => {
    const network = new MemoryNetwork();
    const aliceStorage = new GatedStorage();
    const alice = await device(network, 'alice', aliceStorage);
    const bob = await device(network, 'bob', new GatedStorage());
    await connect(alice, bob);
    aliceStorage.gated = true;
    alice.model.createElection({ title: 'Board' });
    await until(() => aliceStorage.waiting > 0);
    await settle();
    expect(titles(bob), 'nothing reaches a peer while unsaved').to.deep.equal([]);
    aliceStorage.release();
    await until(() => titles(bob).length === 1);
    expect(titles(bob)).to.deep.equal(['Board']);
  });

  it('acknowledges a change only once it is stored, so "unsent" counts it until then', async () => {
    const { alice, bob, bobStorage } = await withBobSavingHeld();
    alice.model.createElection({ title: 'Board' });
    await until(() => titles(bob).length === 1 && bobStorage.waiting > 0);
    await settle();
    expect(alice.engine.unsentChanges(MODEL), 'applied in memory is not acknowledged').to.be.greaterThan(0);
    bobStorage.release();
    await until(() => alice.engine.unsentChanges(MODEL) === 0);
  });

  // Seen over WebRTC: a peer whose save of one delta committed while the next was being stored
  // reported the stored version as if it had seen both deltas; the sender took the second as lost,
  // sent it again, and the duplicate pruned the only link, so later edits waited for announcements.
  it('a peer still storing a delta reports what it stored without making the sender send the delta again', async () => {
    const { alice, bob, bobStorage } = await withBobSavingHeld();
    alice.model.createElection({ title: 'First' });
    await until(() => titles(bob).length === 1 && bobStorage.waiting > 0);
    alice.model.createElection({ title: 'Second' });
    await until(() => titles(bob).length === 2);
    const sent = alice.engine.totals.changesSent;
    // The first save commits (the second waits behind it, then commits too).
    bobStorage.release();
    await until(() => alice.engine.unsentChanges(MODEL) === 0);
    await settle();
    expect(alice.engine.totals.changesSent - sent, 'changes sent again').to.equal(0);
    expect(alice.engine.broadcastStatus().lazy, 'links pruned').to.deep.equal([]);
    expect(bob.engine.broadcastStatus().lazy, 'links pruned').to.deep.equal([]);
  });

  // A connection's first exchange is no broadcast: the delta answering a hello carries what the
  // hello did not claim, and a device still storing a change it got over the previous connection
  // claims less than it holds. Taken for a duplicate, it pruned the only link of the room.
  it('a delta answering a hello that lagged behind what was held does not prune the new link', async () => {
    const { network, alice, bob, bobStorage } = await withBobSavingHeld();
    alice.model.createElection({ title: 'Board' });
    await until(() => titles(bob).length === 1 && bobStorage.waiting > 0);
    // The connection drops before bob stored (or acknowledged) the change, and a new one opens.
    network.disconnect(alice.model.nodeId, bob.model.nodeId);
    await until(() => alice.engine.peerStatus().length === 0 && bob.engine.peerStatus().length === 0);
    network.heal();
    await connect(alice, bob);
    await until(() => alice.engine.peerStatus()[0]?.ready === true && bob.engine.peerStatus()[0]?.ready === true);
    bobStorage.release();
    await until(() => alice.engine.unsentChanges(MODEL) === 0);
    await settle();
    expect(alice.engine.broadcastStatus().lazy, 'links pruned').to.deep.equal([]);
    expect(bob.engine.broadcastStatus().lazy, 'links pruned').to.deep.equal([]);
  });

  it('a peer that crashes after applying but before saving gets the change again on restart', async () => {
    const network = new MemoryNetwork();
    const alice = await device(network, 'alice', new GatedStorage());
    const bobStorage = new GatedStorage();
    let bob = await device(network, 'bob', bobStorage);
    await connect(alice, bob);
    bobStorage.gated = true;
    alice.model.createElection({ title: 'Board' });
    await until(() => titles(bob).length === 1);
    crash(bob);
    bobStorage.drop();
    bob = await device(network, 'bob', bobStorage.openAnother());
    expect(titles(bob), 'the unsaved change is gone after the crash').to.deep.equal([]);
    await connect(bob, alice);
    await until(() => titles(bob).length === 1);
    expect(titles(bob)).to.deep.equal(['Board']);
    // Acknowledged once stored on the restarted device.
    await until(() => alice.engine.unsentChanges(MODEL) === 0);
  });

  it('an edit lost in a crash never reached anyone, and the device continues from what it stored', async () => {
    const network = new MemoryNetwork();
    const aliceStorage = new GatedStorage();
    let alice = await device(network, 'alice', aliceStorage);
    const bob = await device(network, 'bob', new GatedStorage());
    await connect(alice, bob);
    alice.model.createElection({ title: 'Saved' });
    await until(() => titles(bob).length === 1);
    aliceStorage.gated = true;
    alice.model.createElection({ title: 'Lost' });
    await settle();
    crash(alice);
    aliceStorage.drop();
    alice = await device(network, 'alice', aliceStorage.openAnother());
    alice.model.createElection({ title: 'After restart' });
    await connect(alice, bob);
    await until(() => titles(bob).length === 2 && titles(alice).length === 2);
    expect(titles(bob)).to.deep.equal(['After restart', 'Saved']);
    expect(JSON.stringify(alice.model.getSnapshot())).to.equal(JSON.stringify(bob.model.getSnapshot()));
  });

  // A triangle's third link turns lazy (epidemic broadcast): changes reach both its ends by the
  // other two links, and the two ends hear of each other's state by an announcement (sent with a
  // probability) or by anti-entropy, which this test therefore runs.
  it('peers that end up holding the same stored state all report each other in sync, once they compared versions', async () => {
    const network = new MemoryNetwork();
    const devices = await Promise.all(['alice', 'bob', 'carol'].map((name) => device(network, name, new GatedStorage(), 50)));
    const [alice, bob, carol] = devices as [Device, Device, Device];
    await connect(alice, bob);
    await connect(bob, carol);
    await connect(carol, alice);
    for (let round = 0; round < 5; round++) for (const d of devices) d.model.createElection({ title: `${d.model.nodeId} ${round}` });
    const inSyncWithAll = (d: Device) => d.engine.peerStatus().every((peer) => peer.models.every((model) => model.inSync));
    await until(() => devices.every((d) => titles(d).length === 15) && devices.every(inSyncWithAll));
    const snapshots = devices.map((d) => JSON.stringify(d.model.getSnapshot()));
    for (const d of devices) d.engine.stop();
    expect(new Set(snapshots).size).to.equal(1);
  });
});
