import type { NodeId } from '../crdt/dot.js';

/** What one heartbeat tick decided. */
export interface LivenessVerdict {
  /** Peers silent for too long: ask them directly whether they are still there. */
  readonly probe: NodeId[];
  /** Peers that did not answer the probe sent at an earlier tick: they are gone. */
  readonly vanished: NodeId[];
}

/**
 * Tells live peers from vanished ones (a crashed tab never says goodbye). Background tabs have
 * their timers throttled to as little as once a minute, but still handle messages at once; so a
 * silent peer is first probed and declared gone only if it ignored the probe until a *later*
 * tick at least `probeTimeoutMs` on — never merely because its own heartbeat, or our timer, ran late.
 */
export class PeerLiveness {
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly probedAt = new Map<NodeId, number>();

  constructor(
    /** Silence after which a peer is probed. */
    private readonly silenceMs: number,
    /** Least time a probe is given to be answered (ticks may come early after a throttled one). */
    private readonly probeTimeoutMs: number = silenceMs / 2,
    private readonly now: () => number = Date.now,
  ) {}

  /** Any message from `peer` proves it is alive. */
  heard(peer: NodeId): void {
    this.lastHeard.set(peer, this.now());
    this.probedAt.delete(peer);
  }

  forget(peer: NodeId): void {
    this.lastHeard.delete(peer);
    this.probedAt.delete(peer);
  }

  clear(): void {
    this.lastHeard.clear();
    this.probedAt.clear();
  }

  tick(): LivenessVerdict {
    const now = this.now();
    const probe: NodeId[] = [];
    const vanished: NodeId[] = [];
    for (const [peer, heardAt] of this.lastHeard) {
      const probed = this.probedAt.get(peer);
      if (probed !== undefined) {
        if (now - probed >= this.probeTimeoutMs) vanished.push(peer);
      } else if (now - heardAt >= this.silenceMs) {
        this.probedAt.set(peer, now);
        probe.push(peer);
      }
    }
    for (const peer of vanished) this.forget(peer);
    return { probe, vanished };
  }
}
