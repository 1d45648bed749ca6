import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { type SlowDevice, VirtualClock, addLink, messagesSent, slowRoom } from './slow-room.js';

/**
 * The epidemic broadcast when devices are slow: every message takes long (virtual time) to reach
 * them, as on a loaded machine or a phone, compared with the announcement interval (200 ms) and
 * the graft timeout (2 s); and after churn, the overlay replacing links the way it does when a
 * slow device's heartbeats come late. Anti-entropy is off: only the broadcast delivers.
 */
describe('Epidemic broadcast with slow devices and churn (virtual time)', function () {
  this.timeout(120_000);
  const size = 40;
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  const holdAll = (devices: readonly SlowDevice[], writer: SlowDevice) => devices.every((device) => device.model.version.includes(writer.model.version));

  /** One edit from `writer`, run until nothing of it is pending: the messages it cost. */
  async function edit(devices: readonly SlowDevice[], clock: VirtualClock, writer: SlowDevice, oid: string): Promise<number> {
    const before = messagesSent(devices);
    writer.model.update(oid, { title: `Board ${writer.id} ${clock.now}` });
    await clock.run();
    expect(holdAll(devices, writer), `an edit from ${writer.id} reached everyone`).to.equal(true);
    return messagesSent(devices) - before;
  }

  const latencies: Array<[string, (device: SlowDevice, index: number) => number]> = [
    ['every message takes 5 ms', () => 5],
    ['every message takes 1 s', () => 1_000],
    ['a third of the devices take 3 s per message, the others 20 ms', (_, index) => (index % 3 === 0 ? 3_000 : 20)],
  ];
  for (const [name, latency] of latencies) {
    it(`${size} devices, ${name}: an edit costs at most 3N messages, at most 3.75N right after five links were replaced`, async () => {
      const clock = new VirtualClock();
      const devices = await slowRoom(network, clock, size, { seed: 7, chords: 2, latencyMs: 5, broadcast: { lazyIntervalMs: 200, graftTimeoutMs: 2_000 } });
      devices.forEach((device, index) => (device.latencyMs = latency(device, index)));
      // Two edits form the tree (the first floods the room and prunes it).
      const election = devices[0]!.model.createElection({ title: 'Board' });
      await clock.run();
      await edit(devices, clock, devices[size - 1]!, election.oid);
      const steady = [await edit(devices, clock, devices[size / 2]!, election.oid), await edit(devices, clock, devices[3]!, election.oid)];
      expect(Math.max(...steady), `messages per edit: ${steady.join(', ')}`).to.be.at.most(3 * size);

      // Churn: five devices lose a tree link each, and the overlay opens another link for each.
      for (const index of [5, 11, 17, 23, 29]) {
        const device = devices[index]!;
        network.disconnect(device.id, device.engine.broadcastStatus().eager[0]!);
      }
      network.heal();
      await clock.run();
      for (const [a, b] of [[5, 30], [11, 2], [17, 36], [23, 8], [29, 14]] as const) await addLink(devices[a]!, devices[b]!, clock);
      await clock.run();
      // The edit after churn pays for the new links and the lazy links grafted in repair (a
      // duplicate delta and its ack each, both ways); grafting every lazy link of a device that
      // lost its link up the tree made it 4–4.3N here. Two edits later the tree has settled again.
      // Which lazy peers the announcements draw moves the count by a few messages: over seeds 1–8
      // of the two slow profiles it was at most 3.7N (4.2N before the tree stopped moving toward
      // each writer's shorter paths), so the bound is 3.75N, not the 3.6N seed 7 once measured.
      const afterChurn: number[] = [];
      for (const writer of [size / 4, 33, 12]) afterChurn.push(await edit(devices, clock, devices[writer]!, election.oid));
      expect(afterChurn[0], `messages per edit: ${afterChurn.join(', ')}`).to.be.at.most(3.75 * size);
      expect(afterChurn[2], `messages per edit: ${afterChurn.join(', ')}`).to.be.at.most(3 * size);
    });
  }
});
