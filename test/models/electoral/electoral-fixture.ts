import { ElectionRoles, ElectoralSystemModel } from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';

/**
 * A node id built like a room session's: a 32-character device id named after `device` (padded
 * with `_`) and an 8-character tab suffix. Two tabs of one device share the first 32 characters.
 */
export const nodeOf = (device: string, tab = 'tab00001'): string => device.padEnd(32, '_') + tab;

/**
 * An electoral replica for `node` with its own fake clock and predictable ids. Open roles by
 * default (short node ids have no device); with roles enforced, `node` must come from `nodeOf`.
 */
export function electoral(node: string, clock = fakeClock(), roles: ElectionRoles = ElectionRoles.open): ElectoralSystemModel {
  let n = 0;
  // Enforced: the 21-character random part of an owned oid, distinct for each tab of a device.
  const newId = roles === ElectionRoles.open ? () => `${node}-${++n}` : () => node.slice(-8) + String(++n).padStart(13, '0');
  return new ElectoralSystemModel({ modelId: 'election-2024', nodeId: node, getNow: clock.now, newId, roles });
}

/** Sends `to` everything it lacks from `from`. */
export function sync(from: ElectoralSystemModel, to: ElectoralSystemModel) {
  return to.applyChanges(from.getDelta(to.version));
}

/** An open election with two candidates and two registered (and approved) voters, on `model`. */
export function openElection(model: ElectoralSystemModel) {
  const election = model.createElection({ title: 'Board', opensAt: '2024-05-01', closesAt: '2024-05-02' });
  const ann = model.addCandidate(election.oid, { name: 'Ann', party: 'Blue' });
  const ben = model.addCandidate(election.oid, { name: 'Ben' });
  const vera = model.registerVoter({ name: 'Vera', voterNumber: 'V-1' });
  const walt = model.registerVoter({ name: 'Walt', voterNumber: 'V-2' });
  model.registerForElection(vera.oid, election.oid);
  model.registerForElection(walt.oid, election.oid);
  if (model.roles === ElectionRoles.enforced) for (const voter of [vera, walt]) model.approveVoter(election.oid, voter.oid);
  model.openElection(election.oid);
  return { election: election.oid, ann: ann.oid, ben: ben.oid, vera: vera.oid, walt: walt.oid };
}

/** Bob, on his own replica, registers himself (voter V-1) for `election` and Alice hears of it; returns his voter's oid. */
export function bobRegistersFor(election: string, bob: ElectoralSystemModel, alice: ElectoralSystemModel): string {
  const voter = bob.registerVoter({ name: 'Bob', voterNumber: 'V-1' }).oid;
  bob.registerForElection(voter, election);
  sync(bob, alice);
  return voter;
}

/** One replica with election roles enforced per node (made with `nodeOf`), all on `clock`. */
export function enforcedReplicas<const Nodes extends readonly string[]>(
  clock: ReturnType<typeof fakeClock>,
  ...nodes: Nodes
): { -readonly [K in keyof Nodes]: ElectoralSystemModel } {
  return nodes.map((node) => electoral(node, clock, ElectionRoles.enforced)) as { -readonly [K in keyof Nodes]: ElectoralSystemModel };
}
