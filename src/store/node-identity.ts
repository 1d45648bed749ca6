import { nanoid } from 'nanoid';
import { type NodeId, asNodeId } from '../crdt/dot.js';
import type { IdentityStorage } from './storage-adapter.js';

/** The part of the Web Locks API used here; `navigator.locks` fits. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown> | undefined): Promise<unknown>;
}

/** Options of `NodeIdentity.claim`. */
export interface NodeIdentityOptions {
  /** Defaults to `navigator.locks`, or to locks held within this JavaScript realm where there are none. */
  readonly locks?: LockManagerLike;
  /** Makes the id of a new identity (default: 21 random URL-safe characters). */
  readonly newNodeId?: () => NodeId;
  /**
   * Whether a stored identity may be taken back; default all. With node ids derived from a device
   * key, ids stored before (or by another key) must not be reused: peers would refuse them.
   */
  readonly canReuse?: (nodeId: NodeId) => boolean;
}

/**
 * The node identity of one open tab in one room, held through a Web Lock for the tab's lifetime.
 *
 * Tabs are peers of each other, so each open tab needs its own node id; a reloaded tab takes back
 * a free stored identity instead of minting one, so version vectors do not grow with every reload.
 *
 * Sequence numbers are not its business: a model continues its own after the highest one stored,
 * which is safe because nothing leaves a device before it is stored (docs/storage.md, "Durable
 * before visible").
 */
export class NodeIdentity {
  #released = false;

  private constructor(
    readonly nodeId: NodeId,
    private readonly unlock: () => void,
  ) {}

  /** Claims a free stored identity of the room (one no open tab holds), or creates one. */
  static async claim(storage: IdentityStorage, options: NodeIdentityOptions = {}): Promise<NodeIdentity> {
    const locks = options.locks ?? defaultLocks();
    const stored = (await storage.identities()).sort((a, b) => b.lastClaimedAt - a.lastClaimedAt);
    for (const { nodeId } of stored) {
      if (options.canReuse && !options.canReuse(nodeId)) continue;
      const unlock = await tryLock(locks, lockName(storage, nodeId));
      if (unlock) return NodeIdentity.#record(storage, nodeId, unlock);
    }
    // Every stored identity is in use by an open tab: this tab is a new peer. Lock it before it is
    // stored, so no other tab can claim it in between.
    const nodeId = options.newNodeId?.() ?? asNodeId(nanoid());
    const unlock = await tryLock(locks, lockName(storage, nodeId));
    if (!unlock) throw new Error(`the new node id ${nodeId} is already locked`);
    return NodeIdentity.#record(storage, nodeId, unlock);
  }

  // Stores the identity (or its claim time), so a later tab finds it.
  static async #record(storage: IdentityStorage, nodeId: NodeId, unlock: () => void): Promise<NodeIdentity> {
    try {
      await storage.reserveSequences(nodeId, 0, 0);
      return new NodeIdentity(nodeId, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** Gives the identity back (closing the tab does this too), so a later tab can claim it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.unlock();
  }
}

const lockName = (storage: IdentityStorage, nodeId: NodeId): string => `ednet-node:${storage.name}:${nodeId}`;

// Resolves with the release function if the lock was free, or null if someone holds it.
function tryLock(locks: LockManagerLike, name: string): Promise<(() => void) | null> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        resolve(release);
        return held;
      })
      .catch(reject);
  });
}

function defaultLocks(): LockManagerLike {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ?? realmLocks;
}

const heldInRealm = new Set<string>();

// Where Web Locks are missing (Node, old browsers), locks held in this realm only.
const realmLocks: LockManagerLike = {
  async request(name, _options, callback) {
    if (heldInRealm.has(name)) return callback(null);
    heldInRealm.add(name);
    try {
      return await callback({ name });
    } finally {
      heldInRealm.delete(name);
    }
  },
};
