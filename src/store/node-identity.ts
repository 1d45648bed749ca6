import { nanoid } from 'nanoid';
import { type NodeId, asNodeId } from '../crdt/dot.js';
import type { StorageAdapter } from './storage-adapter.js';

/** The part of the Web Locks API used here; `navigator.locks` fits. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable: true }, callback: (lock: unknown) => Promise<unknown> | undefined): Promise<unknown>;
}

/** Options of `NodeIdentity.claim`. */
export interface NodeIdentityOptions {
  /** Defaults to `navigator.locks`, or to locks held within this JavaScript realm where there are none. */
  readonly locks?: LockManagerLike;
  /** Own sequence numbers reserved at a time (default 1000). */
  readonly reserveBlock?: number;
  /** Makes the id of a new identity (default: 21 random URL-safe characters). */
  readonly newNodeId?: () => NodeId;
  /**
   * Whether a stored identity may be taken back; default all. With node ids derived from a device
   * key, ids stored before (or by another key) must not be reused: peers would refuse them.
   */
  readonly canReuse?: (nodeId: NodeId) => boolean;
}

/** The default number of own sequence numbers reserved at a time. */
export const DEFAULT_RESERVE_BLOCK = 1000;

/**
 * The node identity of one open tab in one room, held through a Web Lock for the tab's lifetime.
 *
 * Tabs are peers of each other, so each open tab needs its own node id; a reloaded tab takes back
 * a free stored identity instead of minting one, so version vectors do not grow with every reload.
 *
 * Sequence numbers are never reused. A dot `{node, seq}` names one write on every peer: if a tab
 * wrote seq 57, sent it to a peer and was closed before saving, a reloaded tab reusing 57 for
 * another write would find the peer "already has" it (its version vector covers 57) and the new
 * write would silently never arrive there. So seqs are reserved in blocks, durably, before use:
 * a new session starts above everything any earlier session of this identity may have used, and
 * the block is extended while at most half of it is used.
 */
export class NodeIdentity {
  #reservedUpTo: number;
  #extending: Promise<void> | null = null;
  #released = false;

  private constructor(
    private readonly storage: StorageAdapter,
    readonly nodeId: NodeId,
    /** The first own seq this session may use; the model starts here (`firstSeq`). */
    readonly firstSeq: number,
    reservedUpTo: number,
    private readonly block: number,
    private readonly unlock: () => void,
  ) {
    this.#reservedUpTo = reservedUpTo;
  }

  /** Claims a free stored identity of the room (one no open tab holds), or creates one. */
  static async claim(storage: StorageAdapter, options: NodeIdentityOptions = {}): Promise<NodeIdentity> {
    const locks = options.locks ?? defaultLocks();
    const block = options.reserveBlock ?? DEFAULT_RESERVE_BLOCK;
    if (!Number.isSafeInteger(block) || block < 2) throw new Error('reserveBlock must be an integer of at least 2');
    const stored = (await storage.identities()).sort((a, b) => b.lastClaimedAt - a.lastClaimedAt);
    for (const { nodeId } of stored) {
      if (options.canReuse && !options.canReuse(nodeId)) continue;
      const unlock = await tryLock(locks, lockName(storage, nodeId));
      if (unlock) return NodeIdentity.#reserve(storage, nodeId, block, unlock);
    }
    // Every stored identity is in use by an open tab: this tab is a new peer. Lock it before it is
    // stored, so no other tab can claim it in between.
    const nodeId = options.newNodeId?.() ?? asNodeId(nanoid());
    const unlock = await tryLock(locks, lockName(storage, nodeId));
    if (!unlock) throw new Error(`the new node id ${nodeId} is already locked`);
    return NodeIdentity.#reserve(storage, nodeId, block, unlock);
  }

  static async #reserve(storage: StorageAdapter, nodeId: NodeId, block: number, unlock: () => void): Promise<NodeIdentity> {
    try {
      const { previous, reservedUpTo } = await storage.reserveSequences(nodeId, 0, block);
      return new NodeIdentity(storage, nodeId, previous + 1, reservedUpTo, block, unlock);
    } catch (error) {
      unlock();
      throw error;
    }
  }

  /** Own seqs up to here are durably reserved. */
  get reservedUpTo(): number {
    return this.#reservedUpTo;
  }

  /**
   * Call after own writes with the highest own seq used. Extends the reservation once more than
   * half of it is used; resolves when the reservation is durable (at once if nothing was needed).
   */
  ensureReserved(usedSeq: number): Promise<void> {
    if (this.#released || usedSeq <= this.#reservedUpTo - this.block / 2) return Promise.resolve();
    if (this.#extending) return this.#extending.then(() => this.ensureReserved(usedSeq));
    const extending = this.storage.reserveSequences(this.nodeId, usedSeq, this.block).then(
      ({ reservedUpTo }) => {
        this.#reservedUpTo = Math.max(this.#reservedUpTo, reservedUpTo);
        this.#extending = null;
      },
      (error: unknown) => {
        this.#extending = null;
        throw error;
      },
    );
    this.#extending = extending;
    return extending;
  }

  /** Gives the identity back (closing the tab does this too), so a later tab can claim it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.unlock();
  }
}

const lockName = (storage: StorageAdapter, nodeId: NodeId): string => `ednet-node:${storage.name}:${nodeId}`;

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
