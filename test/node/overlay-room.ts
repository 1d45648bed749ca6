// A room of real EDNetP2PNodes (real SynchronizationEngine, election model) over in-memory
// transports, for the overlay tests and the scale benchmark: seeded randomness, short overlay
// periods, and waits that re-check a condition on every status change, never fixed sleeps.
import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import type { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerDiscovery, SignalingChannel } from '../../src/net/peer-discovery.js';
import type { Transport } from '../../src/net/transport.js';
import { EDNetP2PNode, type EDNetP2PNodeOptions } from '../../src/node/ednet-p2p-node.js';
import type { HyParViewConfig } from '../../src/overlay/hyparview.js';
import type { RelayedSignaling } from '../../src/overlay/relayed-signaling.js';
import { seededRandom } from '../seeded-random.js';

export const MODEL = 'election';
export const ROOM = 'overlay-room';

// A small deterministic PRNG (mulberry32), the one the fuzz tests use.
export { seededRandom };

/** Overlay periods short enough for tests (a real room uses the defaults: seconds). */
export const fastOverlay = (seed: number) => ({
  random: seededRandom(seed),
  tickIntervalMs: 100,
  shuffleIntervalMs: 700,
  rosterIntervalMs: 300,
  rosterPushDelayMs: 50,
  hyparview: { neighborTimeoutMs: 3_000, refillBackoffMs: 1_000 },
  // Generous: a heartbeat crosses one hop per period, and a loaded machine stretches periods.
  roster: { reachedForMs: 10_000, forgetAfterMs: 20_000 },
});

export interface RoomMember {
  readonly id: NodeId;
  readonly node: EDNetP2PNode;
  readonly model: ElectoralSystemModel;
  readonly transports: readonly Transport[];
  readonly discoveries: readonly PeerDiscovery[];
}

export interface MemberOptions {
  readonly seed: number;
  /** Connection setup over this channel (see `MemoryTransport`'s `signaling`). */
  readonly signaling?: SignalingChannel;
  readonly relayedSignaling?: RelayedSignaling;
  /** Transports tried before the room's network (say, a tab's BroadcastChannel). */
  readonly before?: readonly Transport[];
  readonly extraDiscoveries?: readonly PeerDiscovery[];
  readonly discovery?: MemoryDiscovery;
  /** Hyparview options on top of `fastOverlay`'s. */
  readonly hyparview?: Partial<HyParViewConfig>;
  /** Sync engine options on top of the room's (anti-entropy every second). */
  readonly sync?: EDNetP2PNodeOptions['sync'];
}

/** One member of the room on `network`: its node, model, transport and discovery (not started). */
export function roomMember(network: MemoryNetwork, name: string, options: MemberOptions): RoomMember {
  const id = asNodeId(name);
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
  const transports = [...(options.before ?? []), new MemoryTransport(network, id, { signaling: options.signaling, signalTimeoutMs: 3_000 })];
  const discoveries = [options.discovery ?? new MemoryDiscovery(network, { room: ROOM, nodeId: id }), ...(options.extraDiscoveries ?? [])];
  const node = new EDNetP2PNode({
    nodeId: id,
    transports,
    discoveries,
    backoff: { initialMs: 20, maxMs: 200 },
    followBrowserOnline: false,
    overlay: { ...fastOverlay(options.seed), ...(options.hyparview ? { hyparview: { ...fastOverlay(options.seed).hyparview, ...options.hyparview } } : {}) },
    relayedSignaling: options.relayedSignaling,
    relayedTransports: [network.kind],
    sync: { antiEntropyIntervalMs: 1_000, ...options.sync },
  });
  node.registerDomainModel(MODEL, model);
  return { id, node, model, transports, discoveries };
}

/**
 * Resolves once `condition` holds, re-checked after every status change of any of `members`;
 * rejects after `timeoutMs` with `describe()` (what the test was waiting for, and what it saw).
 */
export function eventually(members: readonly RoomMember[], condition: () => boolean, describe: () => string, timeoutMs = 60_000): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let scheduled = false;
    const offs = members.map((member) =>
      member.node.events.on('status-changed', () => {
        if (scheduled) return;
        scheduled = true;
        queueMicrotask(() => {
          scheduled = false;
          if (condition()) done(resolve);
        });
      }),
    );
    const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting: ${describe()}`))), timeoutMs);
    // Some conditions (versions, graphs) change without a status change: look again now and then.
    const recheck = setInterval(() => {
      if (condition()) done(resolve);
    }, 200);
    function done(settle: () => void): void {
      clearTimeout(timer);
      clearInterval(recheck);
      for (const off of offs) off();
      settle();
    }
  });
}

/** The overlay's neighbor graph of `members` (edges both ends agree on are not required: either end counts). */
export function neighborGraph(members: readonly RoomMember[]): Map<NodeId, Set<NodeId>> {
  const alive = new Set(members.map((member) => member.id));
  const graph = new Map<NodeId, Set<NodeId>>(members.map((member) => [member.id, new Set()]));
  for (const member of members) {
    for (const peer of member.node.connections.connections.map((connection) => connection.peerId)) {
      if (!alive.has(peer)) continue;
      graph.get(member.id)!.add(peer);
      graph.get(peer)!.add(member.id);
    }
  }
  return graph;
}

/** How many groups the open connections among `members` form (1: one connected overlay). */
export function groups(members: readonly RoomMember[]): number {
  const graph = neighborGraph(members);
  const seen = new Set<NodeId>();
  let count = 0;
  for (const start of graph.keys()) {
    if (seen.has(start)) continue;
    count++;
    const queue = [start];
    seen.add(start);
    while (queue.length > 0) {
      for (const next of graph.get(queue.pop()!)!) {
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
  }
  return count;
}

/** Largest number of hops from `from` to any member over open connections (Infinity if some is unreachable). */
export function eccentricity(members: readonly RoomMember[], from: NodeId): number {
  const graph = neighborGraph(members);
  const distance = new Map<NodeId, number>([[from, 0]]);
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (distance.has(next)) continue;
      distance.set(next, distance.get(node)! + 1);
      queue.push(next);
    }
  }
  return distance.size < graph.size ? Infinity : Math.max(...distance.values());
}

/** True when every member holds exactly the same version of the model. */
export function converged(members: readonly RoomMember[]): boolean {
  const first = JSON.stringify(members[0]!.model.version.toJSON());
  return members.every((member) => JSON.stringify(member.model.version.toJSON()) === first);
}

/** Open connections per member: [min, max]. */
export function degreeRange(members: readonly RoomMember[]): [number, number] {
  const degrees = members.map((member) => member.node.connections.connections.length);
  return [Math.min(...degrees), Math.max(...degrees)];
}
