import { deviceOf, ownerOf } from '../../domain/index.js';
import { type ElectoralSystemModel, memberNames } from '../../models/electoral/index.js';
import { shortId } from '../shared/format.js';

/** How the audit view names an author. */
export interface AuthorName {
  /** "this device", "organiser", "co-organiser", "voter “Bob”", a peer's “name”, or "device 1a2b3c4d…". */
  readonly name: string;
  /** The short device id (and the peer's name if `name` is a role), or "" when `name` says it all. */
  readonly detail: string;
  readonly self: boolean;
}

/**
 * Names node ids (or device ids) for people: this device; the election's organiser and its
 * effective co-organisers; the voters a
 * device registered (voters are owned by their device); the display name the peer gave (its own
 * words, so quoted); else a short device id. Every tab of a device shares the name.
 */
export class AuthorNames {
  readonly #self: string;
  readonly #organiser: string | undefined;
  readonly #coOrganisers: ReadonlySet<string>;
  readonly #voters = new Map<string, string[]>();
  readonly #peers = new Map<string, string>();
  readonly #cache = new Map<string, AuthorName>();

  constructor(model: ElectoralSystemModel, electionId: string | undefined, peers: ReadonlyArray<{ readonly peerId: string; readonly displayName: string | null }>) {
    this.#self = deviceOf(model.nodeId) ?? model.nodeId;
    this.#organiser = electionId === undefined ? undefined : model.organiserOf(electionId);
    this.#coOrganisers = new Set(electionId === undefined ? [] : model.coOrganisersOf(electionId));
    for (const voter of model.entities('Voter', { includeDeleted: true })) {
      const owner = ownerOf(voter.oid);
      const name = voter.getAttribute('name');
      if (owner === undefined || typeof name !== 'string') continue;
      const names = this.#voters.get(owner);
      if (names) names.push(name);
      else this.#voters.set(owner, [name]);
    }
    for (const peer of peers) if (peer.displayName) this.#peers.set(deviceOf(peer.peerId) ?? peer.peerId, peer.displayName);
    // The names members share with the room outlast their connections, and win over what a tab said.
    for (const [device, name] of memberNames(model)) this.#peers.set(device, name);
  }

  /** The name of the device behind `node` (a node id or a device id). */
  of(node: string): AuthorName {
    const device = deviceOf(node) ?? node;
    let name = this.#cache.get(device);
    if (!name) this.#cache.set(device, (name = this.#name(device)));
    return name;
  }

  #name(device: string): AuthorName {
    const roles: string[] = [];
    if (device === this.#organiser) roles.push('organiser');
    if (this.#coOrganisers.has(device)) roles.push('co-organiser');
    const voters = this.#voters.get(device);
    if (voters) roles.push(voterRole(voters));
    if (device === this.#self) return { name: roles.length ? `this device (${roles.join(', ')})` : 'this device', detail: '', self: true };
    const peer = this.#peers.get(device);
    const id = `device ${shortId(device)}`;
    if (roles.length) return { name: roles.join(', '), detail: peer ? `${id}, “${peer}”` : id, self: false };
    if (peer) return { name: `“${peer}”`, detail: id, self: false };
    return { name: id, detail: '', self: false };
  }
}

/** "voter “Ann”", "voters “Ann” and “Ben”", "voters “Ann”, “Ben” and 3 more". */
function voterRole(names: readonly string[]): string {
  const [first, second] = names.map((name) => `“${name}”`);
  if (names.length === 1) return `voter ${first}`;
  if (names.length === 2) return `voters ${first} and ${second}`;
  return `voters ${first}, ${second} and ${names.length - 2} more`;
}
