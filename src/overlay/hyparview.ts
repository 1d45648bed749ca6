import type { NodeId } from '../crdt/dot.js';
import type { OverlayMessage, Priority } from './overlay-message.js';

/**
 * HyParView's parameters (Leitão, Pereira, Rodrigues: "HyParView: a membership protocol for
 * reliable gossip-based broadcast", DSN 2007). docs/protocol.md says why these values.
 */
export interface HyParViewConfig {
  /** Neighbors (open connections) kept; the paper's fanout + 1. Default 7. */
  readonly activeViewSize: number;
  /** Members remembered as replacements. Default 30. */
  readonly passiveViewSize: number;
  /** Hops of a FORWARD_JOIN walk before the last node takes the newcomer as neighbor (ARWL). Default 6. */
  readonly activeRandomWalkLength: number;
  /** At this remaining TTL a node of the walk keeps the newcomer in its passive view (PRWL). Default 3. */
  readonly passiveRandomWalkLength: number;
  /** Hops of a SHUFFLE walk. Default 6. */
  readonly shuffleRandomWalkLength: number;
  /** Active and passive members sent in one SHUFFLE. Default 3 and 4. */
  readonly shuffleActive: number;
  readonly shufflePassive: number;
  /** A NEIGHBOR request (which includes opening a connection) not answered by then failed. Default 20 s. */
  readonly neighborTimeoutMs: number;
  /**
   * After a low-priority NEIGHBOR was refused (its target was full), upkeep stops filling free
   * slots for this long: in a room where most views are full, asking again at every upkeep would
   * open and close a connection every few seconds. Failures are still repaired at once. Default 30 s.
   */
  readonly refillBackoffMs: number;
}

/** The defaults: the paper's values, with the active view one larger (7 connections per device). */
export const DEFAULT_HYPARVIEW_CONFIG: HyParViewConfig = {
  activeViewSize: 7,
  passiveViewSize: 30,
  activeRandomWalkLength: 6,
  passiveRandomWalkLength: 3,
  shuffleRandomWalkLength: 6,
  shuffleActive: 3,
  shufflePassive: 4,
  neighborTimeoutMs: 20_000,
  refillBackoffMs: 30_000,
};

/** What the protocol asks of the node that runs it. Calls happen synchronously, in order. */
export interface HyParViewIo {
  /** Send to a peer, opening a connection first if there is none (then `connectFailed` if that fails). */
  send(to: NodeId, message: OverlayMessage): void;
  /** Send a shuffle reply to the walk's origin, back along `trail` (the walk's hops, origin first). */
  shuffleReply(origin: NodeId, trail: readonly NodeId[], nodes: readonly NodeId[]): void;
  /** Close the connection to `peer` (after what was sent to it). */
  disconnect(peer: NodeId): void;
  /** `peer` became a neighbor, or stopped being one. */
  neighborUp(peer: NodeId): void;
  neighborDown(peer: NodeId): void;
}

/**
 * The HyParView membership protocol for one room, as pure logic: no timers, no connections; an
 * injected `random` (0 ≤ r < 1) and clock, and every effect through `HyParViewIo`. Follows the
 * paper, with two changes the iroh-gossip implementation also makes: the last node of a
 * FORWARD_JOIN walk sends a high-priority NEIGHBOR and adds the newcomer only when it answers (so
 * an unreachable newcomer never fills a slot), and NEIGHBOR is both request and reply (a NEIGHBOR
 * from a peer with one of ours pending is the reply). Shuffle replies go back along the walk
 * instead of over a temporary connection: opening a WebRTC connection for one message costs
 * seconds and a signaling round trip.
 */
export class HyParView {
  readonly me: NodeId;
  readonly config: HyParViewConfig;
  private readonly active = new Set<NodeId>();
  private readonly passive = new Set<NodeId>();
  /** NEIGHBOR requests (and JOINs) sent, by peer, with when they were sent. */
  private readonly pending = new Map<NodeId, number>();
  /** When a low-priority request of ours was last refused. */
  private refusedAt = -Infinity;

  constructor(
    me: NodeId,
    private readonly io: HyParViewIo,
    private readonly random: () => number,
    private readonly now: () => number,
    config: Partial<HyParViewConfig> = {},
  ) {
    this.me = me;
    this.config = { ...DEFAULT_HYPARVIEW_CONFIG, ...config };
    const c = this.config;
    for (const [name, value, min] of [
      ['activeViewSize', c.activeViewSize, 1],
      ['passiveViewSize', c.passiveViewSize, 1],
      ['activeRandomWalkLength', c.activeRandomWalkLength, 0],
      ['passiveRandomWalkLength', c.passiveRandomWalkLength, 0],
      ['shuffleRandomWalkLength', c.shuffleRandomWalkLength, 0],
      ['shuffleActive', c.shuffleActive, 0],
      ['shufflePassive', c.shufflePassive, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`HyParView ${name} must be an integer of at least ${min}`);
    }
    if (c.passiveRandomWalkLength > c.activeRandomWalkLength) throw new RangeError('HyParView passiveRandomWalkLength must not exceed activeRandomWalkLength');
    if (!(c.neighborTimeoutMs > 0)) throw new RangeError('HyParView neighborTimeoutMs must be positive');
    if (!(c.refillBackoffMs >= 0)) throw new RangeError('HyParView refillBackoffMs must be 0 or more');
  }

  /** Current neighbors. */
  get activeView(): readonly NodeId[] {
    return [...this.active];
  }

  /** Known members that are not neighbors. */
  get passiveView(): readonly NodeId[] {
    return [...this.passive];
  }

  /** True if `peer` is a neighbor or one is being asked to become one: its connection is wanted. */
  wants(peer: NodeId): boolean {
    return this.active.has(peer) || this.pending.has(peer);
  }

  isActive(peer: NodeId): boolean {
    return this.active.has(peer);
  }

  /** Joins the overlay through `contact` (a member found by discovery). */
  join(contact: NodeId): void {
    if (contact === this.me || this.pending.has(contact)) return;
    // Pending like a NEIGHBOR request (so its connection is kept): the contact accepts it with a
    // NEIGHBOR reply.
    this.pending.set(contact, this.now());
    this.io.send(contact, { t: 'join' });
  }

  /** A member heard of elsewhere (discovery, the roster): a candidate for the passive view. */
  learn(peer: NodeId): void {
    this.addPassive(peer);
  }

  /** Handles a message a connected peer sent directly. */
  receive(from: NodeId, message: OverlayMessage): void {
    if (from === this.me) return;
    switch (message.t) {
      case 'join':
        return this.onJoin(from);
      case 'forward-join':
        return this.onForwardJoin(from, message.peer, message.ttl, message.trail);
      case 'neighbor':
        return this.onNeighbor(from, message.priority, message.reply);
      case 'disconnect':
        return this.onDisconnect(from, message.alive);
      case 'shuffle':
        return this.onShuffle(from, message.origin, message.nodes, message.ttl, message.trail);
      default:
        return;
    }
  }

  /** The answer to our shuffle, routed back to us. */
  receiveShuffleReply(nodes: readonly NodeId[]): void {
    for (const node of nodes) this.addPassive(node);
    this.refill();
  }

  /** The connection to `peer` closed without a DISCONNECT (crash, network, refusal). */
  connectionClosed(peer: NodeId): void {
    this.pending.delete(peer);
    if (this.active.delete(peer)) {
      this.io.neighborDown(peer);
      // Taken for failed, as in the paper: it may come back through a join or a shuffle.
      this.passive.delete(peer);
      this.refill([peer]);
    }
  }

  /** A connection to `peer` could not be opened: it is taken for failed. */
  connectFailed(peer: NodeId): void {
    const wasPending = this.pending.delete(peer);
    this.passive.delete(peer);
    if (this.active.delete(peer)) this.io.neighborDown(peer);
    if (wasPending) this.refill([peer]);
  }

  /**
   * Periodic upkeep: NEIGHBOR requests unanswered for `neighborTimeoutMs` fail, and an active view
   * below its size asks a passive member (the paper refills only on failures; a room also fills up
   * as members arrive).
   */
  tick(): void {
    const deadline = this.now() - this.config.neighborTimeoutMs;
    for (const [peer, sentAt] of [...this.pending]) {
      if (sentAt > deadline) continue;
      this.pending.delete(peer);
      if (!this.active.has(peer)) {
        this.passive.delete(peer);
        this.io.disconnect(peer);
      }
    }
    this.fill();
  }

  /** Starts a SHUFFLE walk from a random neighbor with a sample of both views and ourselves. */
  shuffle(): void {
    const target = this.pick(this.active);
    if (target === undefined) return;
    const nodes = [
      this.me,
      ...this.sample(this.active, this.config.shuffleActive, [target]),
      ...this.sample(this.passive, this.config.shufflePassive, [target]),
    ];
    this.io.send(target, { t: 'shuffle', origin: this.me, nodes, ttl: this.config.shuffleRandomWalkLength, trail: [this.me] });
  }

  /** Leaves the overlay: every neighbor is told we are gone. */
  leave(): void {
    for (const peer of [...this.active]) {
      this.active.delete(peer);
      this.io.send(peer, { t: 'disconnect', alive: false });
      this.io.disconnect(peer);
      this.io.neighborDown(peer);
    }
    this.pending.clear();
  }

  private onJoin(peer: NodeId): void {
    // The peer (re)joins: a request we had out to it is void (it restarted and forgot it).
    this.pending.delete(peer);
    this.addActive(peer, 'high', 'high');
    const trail = [this.me];
    for (const node of this.active) {
      if (node !== peer) this.io.send(node, { t: 'forward-join', peer, ttl: this.config.activeRandomWalkLength, trail });
    }
  }

  private onForwardJoin(from: NodeId, peer: NodeId, ttl: number, trail: readonly NodeId[]): void {
    if (peer === this.me) return;
    if (this.active.has(peer)) return;
    if (ttl === 0 || this.active.size <= 1) {
      this.sendNeighbor(peer, 'high');
    } else {
      if (ttl === this.config.passiveRandomWalkLength) this.addPassive(peer);
      if (this.pending.has(peer)) return;
      const next = this.pick(this.active, [from, peer]);
      if (next === undefined) this.sendNeighbor(peer, 'high');
      else this.io.send(next, { t: 'forward-join', peer, ttl: ttl - 1, trail: [...trail, this.me] });
    }
  }

  private onNeighbor(from: NodeId, priority: Priority, reply: boolean): void {
    this.pending.delete(from);
    // A request is answered (accepted) when taken; an acceptance of ours needs no answer.
    if (!this.addActive(from, priority, reply ? undefined : priority)) {
      this.io.send(from, { t: 'disconnect', alive: true });
      this.io.disconnect(from);
      this.addPassive(from);
    }
  }

  private onDisconnect(from: NodeId, alive: boolean): void {
    if (this.pending.delete(from) && !this.active.has(from)) this.refusedAt = this.now();
    if (this.active.delete(from)) {
      this.io.neighborDown(from);
      this.io.disconnect(from);
      if (alive) this.addPassive(from);
      else this.passive.delete(from);
      this.refill([from]);
    } else if (!alive) {
      this.passive.delete(from);
    }
  }

  private onShuffle(from: NodeId, origin: NodeId, nodes: readonly NodeId[], ttl: number, trail: readonly NodeId[]): void {
    if (origin === this.me) return;
    const next = ttl > 0 && this.active.size > 1 ? this.pick(this.active, [from, origin]) : undefined;
    if (next !== undefined) {
      this.io.send(next, { t: 'shuffle', origin, nodes, ttl: ttl - 1, trail: [...trail, this.me] });
      return;
    }
    // The walk ends here: answer with as many of ours, then keep theirs.
    const reply = this.sample(this.passive, nodes.length, nodes);
    if (reply.length < nodes.length) reply.push(...this.sample(this.active, nodes.length - reply.length, [origin, ...nodes]));
    this.io.shuffleReply(origin, [...trail, this.me], reply);
    for (const node of nodes) this.addPassive(node);
  }

  /**
   * Adds `peer` as a neighbor if `priority` allows. `reply`: accept with a NEIGHBOR reply of that
   * priority (the peer asked, and waits for it).
   */
  private addActive(peer: NodeId, priority: Priority, reply: Priority | undefined): boolean {
    if (peer === this.me) return false;
    if (!this.active.has(peer)) {
      if (this.active.size >= this.config.activeViewSize) {
        if (priority === 'low') return false;
        this.dropRandomNeighbor();
      }
      this.passive.delete(peer);
      this.active.add(peer);
      this.io.neighborUp(peer);
    }
    if (reply !== undefined) this.io.send(peer, { t: 'neighbor', priority: reply, reply: true });
    return true;
  }

  /** Makes room for a newcomer: a random neighbor is told (it stays a passive member of ours). */
  private dropRandomNeighbor(): void {
    const victim = this.pick(this.active);
    if (victim === undefined) return;
    this.active.delete(victim);
    this.pending.delete(victim);
    this.io.send(victim, { t: 'disconnect', alive: true });
    this.io.disconnect(victim);
    this.io.neighborDown(victim);
    this.addPassive(victim);
  }

  private sendNeighbor(peer: NodeId, priority: Priority): void {
    if (this.pending.has(peer)) return;
    this.pending.set(peer, this.now());
    this.io.send(peer, { t: 'neighbor', priority, reply: false });
  }

  /**
   * Asks passive members to fill free slots of the active view (a low-priority NEIGHBOR each),
   * unless one was refused less than `refillBackoffMs` ago.
   */
  fill(): void {
    if (this.active.size === 0 || this.now() - this.refusedAt >= this.config.refillBackoffMs) this.refill();
  }

  private refill(skip: readonly NodeId[] = []): void {
    const outstanding = [...this.pending.keys()].filter((peer) => !this.active.has(peer)).length;
    let free = this.config.activeViewSize - this.active.size - outstanding;
    while (free-- > 0) {
      const candidate = this.pick(this.passive, [...skip, ...this.pending.keys()]);
      if (candidate === undefined) return;
      this.sendNeighbor(candidate, this.active.size === 0 ? 'high' : 'low');
    }
  }

  private addPassive(peer: NodeId): void {
    if (peer === this.me || this.active.has(peer) || this.passive.has(peer)) return;
    if (this.passive.size >= this.config.passiveViewSize) {
      const evicted = this.pick(this.passive);
      if (evicted !== undefined) this.passive.delete(evicted);
    }
    this.passive.add(peer);
  }

  private pick(from: ReadonlySet<NodeId>, without: readonly NodeId[] = []): NodeId | undefined {
    const candidates = [...from].filter((peer) => !without.includes(peer));
    return candidates.length === 0 ? undefined : candidates[Math.floor(this.random() * candidates.length)];
  }

  /** Up to `count` distinct members of `from` at random, leaving out `without`. */
  private sample(from: ReadonlySet<NodeId>, count: number, without: readonly NodeId[] = []): NodeId[] {
    const candidates = [...from].filter((peer) => !without.includes(peer));
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    return candidates.slice(0, count);
  }
}
