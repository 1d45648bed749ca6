import type { NodeId } from '../crdt/dot.js';
import { DEVICE_ID_CHARS, NODE_ID_SUFFIX_CHARS } from '../security/device-identity.js';

/** How long a peer disconnected for offences stays refused: doubling from `firstMs` up to `maxMs`. */
export interface OffenderBanOptions {
  readonly firstMs?: number;
  readonly maxMs?: number;
  readonly now?: () => number;
}

/**
 * Peers disconnected for repeated offences, refused for a time that doubles with every ban, for
 * the rest of the session. A ban holds for the node id and for its device (node ids derived from a
 * device key start with the device id, and a connection proves it owns its id), so a hostile
 * device gains nothing by opening another tab: a reconnect a second later finds the door shut.
 */
export class OffenderBans {
  readonly #bans = new Map<string, { until: number; count: number }>();
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;

  constructor(options: OffenderBanOptions = {}) {
    this.#firstMs = options.firstMs ?? 30_000;
    this.#maxMs = options.maxMs ?? 60 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Bans `peerId` (and its device); returns how long, in ms. */
  ban(peerId: NodeId): number {
    let duration = this.#firstMs;
    for (const key of keysOf(peerId)) {
      const count = (this.#bans.get(key)?.count ?? 0) + 1;
      duration = Math.max(duration, Math.min(this.#maxMs, this.#firstMs * 2 ** (count - 1)));
      this.#bans.set(key, { until: 0, count });
    }
    const until = this.#now() + duration;
    for (const key of keysOf(peerId)) this.#bans.get(key)!.until = until;
    return duration;
  }

  /** Ms left of the ban on `peerId` or its device; 0 if it may connect. */
  remainingMs(peerId: NodeId): number {
    const now = this.#now();
    let remaining = 0;
    for (const key of keysOf(peerId)) remaining = Math.max(remaining, (this.#bans.get(key)?.until ?? 0) - now);
    return remaining;
  }
}

// The node id, and its device id where it has the shape of an id derived from a device key.
function keysOf(peerId: NodeId): string[] {
  const derived = peerId.length === DEVICE_ID_CHARS || peerId.length === DEVICE_ID_CHARS + NODE_ID_SUFFIX_CHARS;
  return derived ? [`node:${peerId}`, `device:${peerId.slice(0, DEVICE_ID_CHARS)}`] : [`node:${peerId}`];
}
