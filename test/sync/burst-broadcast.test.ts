import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { type SlowDevice, VirtualClock, messagesSent, slowRoom } from './slow-room.js';

/**
 * Many devices writing at once, each slow in its own way (5–500 ms per message): grafts and prunes
 * cross on links, and a link can end up eager at one end and lazy at the other. The broadcast
 * alone (no anti-entropy) must still bring every later edit to every device.
 */
describe('Epidemic broadcast after many devices wrote at once (virtual time)', function () {
  this.timeout(120_000);
  let network: MemoryNetwork;
  beforeEach(() => {
    network = new MemoryNetwork();
  });
  afterEach(() => network.close());

  const lacking = (devices: readonly SlowDevice[], writer: SlowDevice) => devices.filter((device) => !device.model.version.includes(writer.model.version)).map((device) => device.id);

  // Both seeds left devices that heard of no later edit before the fix (seeds 3 and 4 did too).
  for (const seed of [1, 2]) {
    it(`30 devices (seed ${seed}): every device writes at once, then each later edit reaches everyone by the broadcast`, async () => {
      const clock = new VirtualClock();
      const size = 30;
      const devices = await slowRoom(network, clock, size, { seed, chords: 2, latencyMs: 5, broadcast: { lazyIntervalMs: 200, graftTimeoutMs: 2_000 } });
      devices.forEach((device, index) => (device.latencyMs = 5 + ((index * 7919 + seed * 104729) % 500)));
      for (const [index, device] of devices.entries()) device.model.createElection({ title: `Board ${index}` });
      await clock.run();
      const missed: string[] = [];
      const costs: number[] = [];
      for (const writer of [devices[0]!, devices[7]!, devices[19]!, devices[2]!, devices[25]!]) {
        const before = messagesSent(devices);
        writer.model.createElection({ title: `Board by ${writer.id} at ${clock.now}` });
        await clock.run();
        costs.push(messagesSent(devices) - before);
        const left = lacking(devices, writer);
        if (left.length) missed.push(`${writer.id}'s edit missed ${left.join(' ')}`);
      }
      expect(missed).to.deep.equal([]);
      // The first edit after the burst prunes the links the burst left eager (6–7.6N here); the tree holds after that.
      expect(Math.max(...costs.slice(1)), `messages per edit: ${costs.join(', ')}`).to.be.at.most(3 * size);
    });
  }
});
