import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { type SlowDevice, VirtualClock, messagesSent, slowRoom } from './slow-room.js';

/**
 * A broadcast tree per writer (sync protocol 6): each writer's first edit floods and prunes into
 * its own tree of first arrival, so its later edits take its distance to the farthest device, not
 * a path up and down another writer's tree. Virtual time with the same delay on every message:
 * first arrival is breadth-first, and a seed replays the same overlay on any machine.
 */
describe('Epidemic broadcast: a tree per writer (virtual time)', function () {
  this.timeout(60_000);
  const size = 16;
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  /** The overlay's distances from `from` (breadth-first over the engines' connections). */
  function depthFrom(devices: readonly SlowDevice[], from: NodeId): number {
    const byId = new Map(devices.map((device) => [device.id, device]));
    const distance = new Map([[from, 0]]);
    const queue = [from];
    while (queue.length) {
      const id = queue.shift()!;
      for (const peer of byId.get(id)!.engine.peerStatus())
        if (!distance.has(peer.peerId)) {
          distance.set(peer.peerId, distance.get(id)! + 1);
          queue.push(peer.peerId);
        }
    }
    expect(distance.size, 'the overlay is connected').to.equal(devices.length);
    return Math.max(...distance.values());
  }

  /** One edit from `writer` until nothing is pending: the hops it took to the farthest device (who first delivered it to whom) and its messages. */
  async function edit(devices: readonly SlowDevice[], clock: VirtualClock, writer: SlowDevice, oid: string): Promise<{ hops: number; messages: number }> {
    const deliveredBy = new Map<NodeId, NodeId>();
    const offs = devices.map((device) =>
      device.engine.onEvent((event) => {
        if (event.type === 'changes-applied' && event.result.applied > 0 && !deliveredBy.has(device.id)) deliveredBy.set(device.id, event.peerId);
      }),
    );
    const before = messagesSent(devices);
    writer.model.update(oid, { title: `Board ${writer.id} ${clock.now}` });
    await clock.run();
    for (const off of offs) off();
    expect(devices.every((device) => device.model.version.includes(writer.model.version)), `an edit from ${writer.id} reached everyone`).to.equal(true);
    const depth = (id: NodeId): number => (id === writer.id ? 0 : 1 + depth(deliveredBy.get(id)!));
    return { hops: Math.max(...devices.map((device) => depth(device.id))), messages: messagesSent(devices) - before };
  }

  /** Each device's eager and lazy peers in `root`'s tree. */
  const tree = (devices: readonly SlowDevice[], root: NodeId) => devices.map((device) => {
    const { eager, lazy } = device.engine.broadcastStatus(root);
    return { eager, lazy };
  });

  async function room(sourceTrees?: number) {
    const clock = new VirtualClock();
    const broadcast = { lazyIntervalMs: 200, graftTimeoutMs: 2_000, sourceTrees: sourceTrees ?? 32 };
    const devices = await slowRoom(network, clock, size, { seed: 3, chords: 1, latencyMs: 10, broadcast });
    return { clock, devices };
  }

  it("a second writer's edits travel its own tree: hops equal its breadth-first depth, and its prunes leave the first writer's tree as it was", async () => {
    const { clock, devices } = await room();
    const [first, second] = [devices[0]!, devices[size / 2]!];
    const election = first.model.createElection({ title: 'Board' });
    await clock.run();
    await edit(devices, clock, first, election.oid);
    const firstTree = tree(devices, first.id);
    // A spanning tree: every device but the root has one link up, so 2(N − 1) eager link ends.
    expect(firstTree.reduce((sum, status) => sum + status.eager.length, 0)).to.equal(2 * (size - 1));

    // The second writer's first edit floods and prunes its own tree; the first writer's tree stays.
    await edit(devices, clock, second, election.oid);
    expect(tree(devices, first.id)).to.deep.equal(firstTree);
    expect(tree(devices, second.id).reduce((sum, status) => sum + status.eager.length, 0)).to.equal(2 * (size - 1));

    const later = await edit(devices, clock, second, election.oid);
    expect(later.hops, "the second writer's edit, hops to the farthest device").to.equal(depthFrom(devices, second.id));
    // Along its tree: N − 1 deltas and N − 1 acks, and a few announcements on lazy links.
    expect(later.messages).to.be.at.most(3 * size);
    const again = await edit(devices, clock, first, election.oid);
    expect(again.hops, "the first writer's edit, hops to the farthest device").to.equal(depthFrom(devices, first.id));
    expect(again.messages).to.be.at.most(3 * size);
    expect(first.engine.broadcastStatus().scheduled).to.equal(0);
  });

  it("with one shared tree (sourceTrees 0) the second writer's edits climb the first writer's tree", async () => {
    const { clock, devices } = await room(0);
    const [first, second] = [devices[0]!, devices[size / 2]!];
    const election = first.model.createElection({ title: 'Board' });
    await clock.run();
    await edit(devices, clock, first, election.oid);
    await edit(devices, clock, second, election.oid);
    const later = await edit(devices, clock, second, election.oid);
    // Deeper than its breadth-first depth in this overlay: what a tree per writer removes.
    expect(later.hops).to.be.greaterThan(depthFrom(devices, second.id));
  });

  it('keeps trees for at most `sourceTrees` writers, the most recently seen; the others share one tree', async () => {
    const { clock, devices } = await room(2);
    const election = devices[0]!.model.createElection({ title: 'Board' });
    await clock.run();
    for (const index of [0, 4, 8, 12]) await edit(devices, clock, devices[index]!, election.oid);
    // Every device saw the four writers in the same order: the two last keep their trees.
    const seen = new Set(devices.map((device) => JSON.stringify(device.engine.broadcastStatus().roots)));
    expect([...seen]).to.deep.equal([JSON.stringify([devices[8]!.id, devices[12]!.id])]);
    const next = await edit(devices, clock, devices[0]!, election.oid);
    expect(devices.every((device) => device.model.version.includes(devices[0]!.model.version))).to.equal(true);
    expect(next.messages).to.be.greaterThan(0);
  });
});
