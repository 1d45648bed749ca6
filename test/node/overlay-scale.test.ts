import { expect } from 'chai';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { MemoryTransport } from '../../src/net/memory-transport.js';
import { converged, degreeRange, eventually, groups, roomMember, seededRandom, type RoomMember } from './overlay-room.js';

const CAP = 7 + 8; // the overlay's active view, plus connections being set up

describe('Overlay at scale (real nodes and sync engines, in-memory network)', function () {
  this.timeout(240_000);
  let network: MemoryNetwork;
  let members: RoomMember[];
  let gone: RoomMember[];

  beforeEach(() => {
    network = new MemoryNetwork();
    members = [];
    gone = [];
  });

  afterEach(async () => {
    await Promise.all([...members, ...gone].map((member) => member.node.stop()));
    network.close();
  });

  async function join(names: readonly string[], seed: number): Promise<RoomMember[]> {
    const joined = names.map((name, index) => roomMember(network, name, { seed: seed + index }));
    members.push(...joined);
    await Promise.all(joined.map((member) => member.node.start()));
    return joined;
  }

  const state = (): string =>
    `groups ${groups(members)}, degrees ${degreeRange(members).join('–')}, ` +
    `versions ${new Set(members.map((member) => JSON.stringify(member.model.version.toJSON()))).size} distinct`;

  for (const size of [50, 100]) {
    it(`${size} devices form one connected overlay, stay connected and converge through joins, leaves and crashes`, async () => {
      const random = seededRandom(size);
      await join(Array.from({ length: size }, (_, i) => `dev-${i}`), 1_000);
      await eventually(members, () => groups(members) === 1 && degreeRange(members)[0] >= 2, state);
      expect(degreeRange(members)[1]).to.be.at.most(CAP);

      // Everyone edits once: the edits reach every device through the partial mesh.
      for (const member of members.slice(0, 10)) member.model.createElection({ title: `by ${member.id}` });
      await eventually(members, () => converged(members), state);
      expect(members[0]!.model.elections().count).to.equal(10);

      // Churn: a tenth leave, a tenth crash (their links just die), a tenth join.
      const shuffled = [...members].sort(() => random() - 0.5);
      const leaving = shuffled.slice(0, size / 10);
      const crashing = shuffled.slice(size / 10, size / 5);
      members = members.filter((member) => !leaving.includes(member) && !crashing.includes(member));
      gone.push(...leaving, ...crashing);
      await Promise.all(leaving.map((member) => member.node.stop()));
      for (const member of crashing) {
        for (const transport of member.transports) (transport as MemoryTransport).close();
        for (const discovery of member.discoveries) void discovery.stop();
      }
      await join(Array.from({ length: size / 10 }, (_, i) => `new-${i}`), 2_000);
      const writer = members[members.length - 1]!;
      const title = writer.model.createElection({ title: 'after the churn' }).oid;
      await eventually(members, () => groups(members) === 1 && members.every((member) => member.model.get(title) !== undefined), state);
      await eventually(members, () => converged(members), state);
      expect(degreeRange(members)[1]).to.be.at.most(CAP);

      // The status counts the whole room, not only direct connections, and says when all are in
      // sync. Devices that left said so; crashed ones stay known (not reached) until forgotten.
      const sample = members.slice(0, 5);
      const live = members.length;
      const room = (member: RoomMember) => member.node.status.room!;
      await eventually(
        sample,
        () =>
          sample.every(
            (member) => room(member).reached === live && room(member).inSync === live - 1 && room(member).devices >= live && room(member).devices <= live + crashing.length,
          ),
        () => `expected ${live} devices reached, all in sync; saw ${JSON.stringify(sample.map(room))}`,
        120_000,
      );
      for (const member of sample) expect(room(member).connected).to.equal(member.node.status.peers.length).and.be.at.most(CAP);
    });
  }
});
