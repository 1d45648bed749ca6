import type { StateRepair } from './state-repair.js';
import type { SyncContext } from './sync-context.js';
import type { SyncSender } from './sync-sender.js';

/**
 * When the engine sends on its own: what changed here (an edit, a change learned from a peer, a
 * save, a signature) goes to peers once per event-loop turn, acks wait for the save that stores
 * what they acknowledge, and every `antiEntropyIntervalMs` versions are compared again with a few
 * peers, so nothing lost stays missing.
 */
export class SyncScheduler {
  readonly #dirty = new Set<string>();
  #flushScheduled = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly context: Pick<SyncContext, 'models' | 'broadcast' | 'readyPeers'>,
    private readonly sender: Pick<SyncSender, 'sendDelta' | 'sendVersion' | 'sendAck'>,
    private readonly repair: Pick<StateRepair, 'updateSyncState'>,
    private readonly antiEntropyIntervalMs: number,
  ) {}

  /** Starts periodic anti-entropy (unless its interval is 0). */
  start(): void {
    if (this.#timer !== undefined || this.antiEntropyIntervalMs === 0) return;
    this.#timer = setInterval(() => this.antiEntropy(), this.antiEntropyIntervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** `modelId` has more to send: it goes at the end of this turn. */
  markDirty(modelId: string): void {
    this.#dirty.add(modelId);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // One flush per event-loop turn, so a burst of edits in one task travels as one delta per peer.
    queueMicrotask(() => this.flush());
  }

  /** Drops what was pending for `modelId` (it was unregistered). */
  forget(modelId: string): void {
    this.#dirty.delete(modelId);
  }

  /** More of `modelId` is stored: acks that waited for it go, and so do the changes stored. */
  durable(modelId: string): void {
    const claimable = this.context.models.claimable(modelId);
    if (!claimable) return;
    for (const peer of this.context.readyPeers()) {
      const awaited = peer.model(modelId)?.awaitingAck;
      if (awaited && claimable.includes(awaited)) this.sender.sendAck(peer, modelId);
    }
    this.markDirty(modelId);
  }

  private flush(): void {
    const { models, broadcast } = this.context;
    this.#flushScheduled = false;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const modelId of dirty) {
      const claimable = models.claimable(modelId);
      for (const peer of this.context.readyPeers()) {
        if (!broadcast.pushes(peer, modelId)) {
          // Lazy in the tree of every writer whose changes the peer lacks: the change is
          // announced to a few such peers at the next round. A peer
          // that holds it already (it announced it to us before the tree brought it) is told we
          // hold it too, or it shows us as behind until anti-entropy.
          if (claimable && peer.shares(modelId)) {
            const told = peer.told.get(modelId);
            if (!peer.model(modelId)!.known.includes(claimable)) broadcast.changed(modelId);
            else if (told && !told.includes(claimable)) broadcast.caughtUp(peer, modelId);
          }
          this.repair.updateSyncState(peer, modelId);
          continue;
        }
        this.sender.sendDelta(peer, modelId);
        // Stored more that the peer holds already (say, from a third peer): no delta goes, but
        // the peer must learn that this node holds it too, or it shows it as behind.
        const told = peer.told.get(modelId);
        if (claimable && peer.shares(modelId) && told && !told.includes(claimable)) this.sender.sendVersion(peer, modelId, false);
        this.repair.updateSyncState(peer, modelId);
      }
    }
  }

  private antiEntropy(): void {
    const { models, broadcast } = this.context;
    for (const peer of broadcast.antiEntropyPeers(this.context.readyPeers())) {
      for (const modelId of models.keys()) {
        peer.model(modelId)?.progressed();
        this.sender.sendVersion(peer, modelId, true);
      }
    }
  }
}
