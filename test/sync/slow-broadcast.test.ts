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
      // Each writer's first edit floods the room and prunes it into that writer's tree.
      const election = devices[0]!.model.createElection({ title: 'Board' });
      await clock.run();
      // (370 messages each here, 9.25N: a delta and an ack over about every link.)
      for (const writer of [size / 2, 3, size / 4, 33, 12]) await edit(devices, clock, devices[writer]!, election.oid);
      const steady = [await edit(devices, clock, devices[size / 2]!, election.oid), await edit(devices, clock, devices[3]!, election.oid)];
      expect(Math.max(...steady), `messages per edit: ${steady.join(', ')}`).to.be.at.most(3 * size);

      // Churn: five devices lose a link of the next writer's tree each, and the overlay opens
      // another link for each.
      for (const index of [5, 11, 17, 23, 29]) {
        const device = devices[index]!;
        network.disconnect(device.id, device.engine.broadcastStatus(devices[size / 4]!.id).eager[0]!);
      }
      network.heal();
      await clock.run();
      for (const [a, b] of [[5, 30], [11, 2], [17, 36], [23, 8], [29, 14]] as const) await addLink(devices[a]!, devices[b]!, clock);
      await clock.run();
      // Each writer's edit after churn pays for the new links and the lazy links grafted in
      // repair in its own tree (a duplicate delta and its ack each, both ways): 2.9–3.6N over
      // seeds 1–8 and the three profiles (3.4–3.7N with one tree for every writer, 4–4.3N when a
      // device that lost its link up the tree grafted every lazy link). Its next edit runs on a
      // settled tree again: at most 2.65N there.
      const afterChurn: number[] = [];
      for (const writer of [size / 4, 33, 12, size / 4, 33, 12]) afterChurn.push(await edit(devices, clock, devices[writer]!, election.oid));
      expect(afterChurn[0], `messages per edit: ${afterChurn.join(', ')}`).to.be.at.most(3.75 * size);
      expect(Math.max(...afterChurn.slice(3)), `messages per edit: ${afterChurn.join(', ')}`).to.be.at.most(3 * size);
    });
  }
});
