import { expect } from 'chai';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { FallbackSignalingChannel, RelayedSignaling } from '../../src/overlay/relayed-signaling.js';
import { EncryptedSignalingChannel, deriveRoomKeys, generateRoomSecret, type RoomKeys } from '../../src/security/index.js';
import { ROOM, converged, eventually, groups, roomMember, type RoomMember } from './overlay-room.js';
import { expectSome } from '../expectations.js';

describe('Overlay without the signaling server', function () {
  this.timeout(120_000);
  let network: MemoryNetwork;
  let tabs: MemoryNetwork;
  let keys: RoomKeys;
  let members: RoomMember[];
  let gone: RoomMember[];
  const closers: Array<() => void> = [];

  beforeEach(async () => {
    // `network` stands for WebRTC: a link opens only after an offer and its answer went through
    // signaling (the server's MemoryDiscovery, else relayed by members). `tabs` stands for the
    // BroadcastChannel between two tabs of one browser, which needs no server.
    network = new MemoryNetwork();
    tabs = new MemoryNetwork({ kind: 'broadcast' });
    keys = await deriveRoomKeys('overlay-room', generateRoomSecret());
    members = [];
    gone = [];
  });

  afterEach(async () => {
    await Promise.all([...members, ...gone].map((member) => member.node.stop()));
    for (const close of closers.splice(0)) close();
    network.close();
    tabs.close();
  });

  /** A member whose connection setup is sealed with the room key and goes through `server` or the overlay. */
  function member(name: string, seed: number, server: MemoryDiscovery, inTabs: boolean): RoomMember {
    const relayed = new RelayedSignaling();
    const fallback = new FallbackSignalingChannel(server, relayed);
    const signaling = new EncryptedSignalingChannel(fallback, server.nodeId, keys);
    closers.push(() => signaling.close(), () => fallback.close());
    return roomMember(network, name, {
      seed,
      discovery: server,
      signaling,
      relayedSignaling: relayed,
      before: inTabs ? [new MemoryTransport(tabs, server.nodeId)] : [],
      extraDiscoveries: inTabs ? [new MemoryDiscovery(tabs, { room: ROOM, nodeId: server.nodeId })] : [],
    });
  }

  const state = (): string => `groups ${groups(members)}, connections ${members.map((m) => m.node.connections.connections.length).join(',')}`;

  it('repairs the overlay and lets a device that left come back through other devices', async () => {
    // dev-0 and dev-1 are two tabs of one browser; the others are devices elsewhere.
    members = Array.from({ length: 16 }, (_, i) => member(`dev-${i}`, 10 + i, new MemoryDiscovery(network, { room: ROOM, nodeId: `dev-${i}` as never }), i < 2));
    await Promise.all(members.map((m) => m.node.start()));
    await eventually(members, () => groups(members) === 1 && members.every((m) => m.node.connections.connections.length >= 2), state);

    // The server goes down: no member lists anyone any more.
    await Promise.all(members.map((m) => m.discoveries[0]!.stop()));
    let relayedConnections = 0;
    for (const m of members) {
      m.node.connections.onStateChange((event) => {
        if (event.state === 'open' && event.via === network.kind) relayedConnections++;
      });
    }

    // Two devices crash: their neighbors replace them with new connections set up through others.
    const crashed = members.slice(10, 12);
    members = members.filter((m) => !crashed.includes(m));
    gone.push(...crashed);
    for (const m of crashed) for (const transport of m.transports) (transport as MemoryTransport).close();
    await eventually(members, () => groups(members) === 1 && relayedConnections > 0 && members.every((m) => m.node.connections.connections.length >= 2), state);

    // dev-0 leaves and comes back (a reload): it reaches its sibling tab, and through it the room.
    const left = members[0]!;
    members = members.slice(1);
    await left.node.stop();
    gone.push(left);
    const nowhere = new MemoryNetwork(); // the server is still down: this discovery lists nobody
    closers.push(() => nowhere.close());
    const back = member('dev-0', 99, new MemoryDiscovery(nowhere, { room: ROOM, nodeId: left.id }), true);
    members.push(back);
    await back.node.start();
    const remoteLinks = (): number => back.node.connections.connections.filter((connection) => connection.via === network.kind).length;
    await eventually(members, () => groups(members) === 1 && remoteLinks() >= 1, () => `${state()}; dev-0 has ${remoteLinks()} links to other devices`);
    expectSome(back.node.connections.connections, (connection) => connection.via === 'broadcast');

    // Edits flow both ways, without any server.
    const fromBack = back.model.createElection({ title: 'from the device that came back' }).oid;
    const fromFar = members[5]!.model.createElection({ title: 'from a device elsewhere' }).oid;
    await eventually(members, () => members.every((m) => m.model.get(fromBack) && m.model.get(fromFar)) && converged(members), state);
  });
});

describe('Overlay after a partition', function () {
  this.timeout(120_000);

  it('two halves that formed apart become one group again once the network heals', async () => {
    const network = new MemoryNetwork();
    const members = Array.from({ length: 24 }, (_, i) => roomMember(network, `dev-${i}`, { seed: 500 + i }));
    try {
      await Promise.all(members.map((m) => m.node.start()));
      await eventually(members, () => groups(members) === 1, () => `groups ${groups(members)}`);
      const left = members.slice(0, 12);
      const right = members.slice(12);
      network.partition(left.map((m) => m.id), right.map((m) => m.id));
      // Each half repairs itself and stops hearing the other's heartbeats.
      await eventually(members, () => groups(left) === 1 && groups(right) === 1 && members.every((m) => m.node.status.room!.reached === 12), () => `reached ${members.map((m) => m.node.status.room!.reached)}`);
      expect(members.every((m) => m.node.status.room!.devices === 24)).to.equal(true, 'the discovery still lists all 24');
      network.heal();
      await eventually(members, () => groups(members) === 1 && members.every((m) => m.node.status.room!.reached === 24), () => `groups ${groups(members)}`);
      const oid = members[0]!.model.createElection({ title: 'after the partition' }).oid;
      await eventually(members, () => members.every((m) => m.model.get(oid) !== undefined), () => 'the edit did not reach everyone');
    } finally {
      await Promise.all(members.map((m) => m.node.stop()));
      network.close();
    }
  });
});
