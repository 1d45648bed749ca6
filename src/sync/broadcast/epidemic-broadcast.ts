import type { NodeId } from '../../crdt/dot.js';
import { VersionVector } from '../../crdt/index.js';
import type { PeerLink } from '../peer-link.js';
import { BROADCAST_PROTOCOL, type BroadcastMessage, keepsSourceTrees } from './broadcast-message.js';
import { rootsBeyond } from './roots-beyond.js';
import { versionSummary } from './version-summary.js';
import { type Timers, globalTimers } from '../../util/timers.js';

/** Options of the epidemic broadcast (`SynchronizationEngineOptions.broadcast`). */
export interface EpidemicBroadcastOptions {
  /** How long changes wait before being announced to lazy peers, so a burst is one announcement. Default 1 s. */
  readonly lazyIntervalMs?: number;
  /**
   * Lazy peers announced to per round, among those that lack our version as far as we know; a
   * fraction is a probability (0.5: one peer every other round, on average). Where no link is
   * eager, or no eager peer holds our own latest changes, rounds go on (at least one peer each)
   * until each peer lacking them was told. Default 0.5.
   */
  readonly lazyFanout?: number;
  /** How long an announced change may take to arrive by the tree before it is asked for (GRAFT). Default 3 s. */
  readonly graftTimeoutMs?: number;
  /** Peers compared with per anti-entropy period, chosen at random. Default 3. */
  readonly antiEntropyPeers?: number;
  /** Randomness for choosing peers (injectable for tests). Default `Math.random`. */
  readonly random?: () => number;
  /** Where announcement rounds and grafts wait. Default the global timers; a simulation fires them itself. */
  readonly timers?: Timers;
  /**
   * Writers with a tree of their own (protocol 6), the most recently seen; the others' changes
   * share one tree. 0 (the default): one tree for every writer. A writer's own tree halves the
   * hops of its edits (4 instead of 8 at N = 100), but its first edit floods the room to build it
   * (about 9.7N messages instead of 2.6N): worth it where few devices write often (say 32, for
   * collaborative editing), not in the app's elections, where most devices write a few times
   * (a registration, a ballot) and every one would flood (docs/benchmark-findings.md).
   */
  readonly sourceTrees?: number;
}

/** The key of the tree that writers without a tree of their own share (no node id is empty). */
const SHARED = '';

/**
 * A delta bringing news of more writers than this is a catch-up (a connection's first exchange,
 * anti-entropy), not edits spreading: it makes no new trees, so it does not push out the trees
 * of the writers at work.
 */
const FRESH_ROOTS_PER_DELTA = 8;

/** What a delta carried: the writers of its changes, and those of them it brought news of. */
export interface DeltaRoots {
  readonly carried: readonly NodeId[];
  readonly news: readonly NodeId[];
}

/** Lazy links grafted when the link up the tree is lost. */
const UPSTREAM_LOSS_GRAFTS = 2;

/**
 * How a delta's content stood when it arrived: `news` (something not held here), `duplicate` (all
 * held already, and not all brought by this link: it came another way first), `resent` (all held
 * already, brought by this link before, or held when the link's exchange began).
 */
export type DeltaArrival = 'news' | 'duplicate' | 'resent';

/** What the broadcast needs of the engine. */
export interface BroadcastHost {
  /** This node's id: announcements make sure its own edits reach the lazy peers the tree cannot. */
  readonly nodeId: NodeId;
  /** Every registered model. */
  models(): Iterable<string>;
  /** Ready peers that hold `modelId`. */
  sharingPeers(modelId: string): readonly PeerLink[];
  /** The version of `modelId` this node may claim (what is stored); undefined if not registered. */
  claimable(modelId: string): VersionVector | undefined;
  /** The version of `modelId` held in memory: what an announced change is waited for against. */
  held(modelId: string): VersionVector | undefined;
  /** Our digest of `modelId`, where we hold exactly what we claim. */
  ownDigest(modelId: string): string | undefined;
  /** Sends the peer whatever of `modelId` it lacks as far as its `known` version says. */
  sendDelta(peer: PeerLink, modelId: string): void;
  /** The peer claims to hold `have` of `modelId` (on top of what it claimed before), with its digest when it sent one. */
  claimed(peer: PeerLink, modelId: string, have: VersionVector, digest: string | undefined, digestSent: boolean): void;
}

/**
 * Plumtree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007) over the sync
 * engine's connections, which are the overlay's active view. Every link starts eager: changes are
 * pushed as deltas. A delta that brings nothing new because it came by another path first (not a
 * resend over the same link) prunes its link to lazy, both ways, so the eager links settle into a spanning tree and a change crosses
 * each tree link once. Lazy links carry announcements (`ihave`: the version entries that changed,
 * never a whole vector), sent after `lazyIntervalMs` to a few lazy peers that lack them as far as
 * we know (where the tree cannot carry them, until each was told); a node that was announced a change and has not received it by the tree within
 * `graftTimeoutMs` grafts the announcer's link into the tree and gets the change. The engine's
 * `known` versions still decide what a delta carries, so nothing is sent to a peer known to hold
 * it. Anti-entropy with a few random peers per period catches whatever all of this missed.
 *
 * A tree per writer (sync protocol 6; Plumtree's per-source trees, as in Thicket, Ferreira,
 * Leitão, Rodrigues, SRDS 2010): eager and lazy are kept per (writer, link), so each writer's
 * changes travel its own tree, which its first change builds by flooding and pruning: the paths
 * of first arrival from that writer, about breadth-first, so an edit takes about the writer's
 * distance to the farthest device, not up and down one shared tree (docs/benchmark-findings.md,
 * *Hops*). A delta carrying several writers' changes goes where any of their trees is eager; a
 * duplicate prunes the trees of every writer it carried; news over a link lazy in all their trees
 * grafts it into all of them. Memory is bounded: trees for the `sourceTrees` most recently seen
 * writers, the others (and every writer on links to peers before protocol 6) share one tree. Both
 * ends of a link name writers, never trees; a writer one end keeps no tree for stands for the
 * shared tree there, and a disagreement costs at most a duplicate and its prune, or a graft.
 *
 * The paper's optimization (an announcement that came a path two links shorter than the tree's
 * swaps the links) is left out: with one tree for every writer it made the tree deeper, and per
 * writer the first-arrival tree is short already.
 */
export class EpidemicBroadcast {
  readonly #host: BroadcastHost;
  readonly #lazyIntervalMs: number;
  readonly #lazyFanout: number;
  readonly #graftTimeoutMs: number;
  readonly #antiEntropyPeers: number;
  readonly #random: () => number;
  readonly #sourceTrees: number;
  /**
   * Per tree (a writer's id, or `SHARED`), the peers whose link is lazy in it; every other link
   * is eager. Writers' trees in the order they were last seen, oldest first.
   */
  readonly #trees = new Map<string, Set<NodeId>>([[SHARED, new Set()]]);
  /** Per peer, the trees in which it pushed us something new over an eager link: our way up them. */
  readonly #upstream = new Map<NodeId, Set<string>>();
  /** Models with changes to announce at the next round. */
  readonly #pending = new Set<string>();
  /** Per model, lazy peers known to lack what we hold: announced to at the next round whatever the fanout. */
  readonly #owed = new Map<string, Set<NodeId>>();
  /** Per model, lazy peers that hold all we hold but were not told we do: told at the next round. */
  readonly #caughtUp = new Map<string, Set<NodeId>>();
  /** Per model, the claimable version last announced, so a round never repeats itself. */
  readonly #announced = new Map<string, VersionVector>();
  /** Per model, announcers of changes not received yet, and the timer to graft one. */
  readonly #missing = new Map<string, { timer: unknown; announcers: NodeId[] }>();
  readonly #timers: Timers;
  #round: unknown;
  #stopped = false;

  constructor(host: BroadcastHost, options: EpidemicBroadcastOptions = {}) {
    this.#host = host;
    this.#lazyIntervalMs = options.lazyIntervalMs ?? 1_000;
    this.#lazyFanout = options.lazyFanout ?? 0.5;
    this.#graftTimeoutMs = options.graftTimeoutMs ?? 3_000;
    this.#antiEntropyPeers = options.antiEntropyPeers ?? 3;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? globalTimers;
    this.#sourceTrees = options.sourceTrees ?? 0;
    if (!(this.#lazyFanout >= 0 && this.#lazyFanout <= 1_000)) throw new RangeError('broadcast.lazyFanout must be between 0 and 1,000');
    for (const [name, value] of [
      ['graftTimeoutMs', this.#graftTimeoutMs],
      ['antiEntropyPeers', this.#antiEntropyPeers],
      ['sourceTrees', this.#sourceTrees],
    ] as const)
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`broadcast.${name} must be a non-negative integer`);
  }

  /** Whether the peer speaks the broadcast (protocol 4); peers that do not are always pushed to. */
  speaks(peer: PeerLink): boolean {
    return peer.protocol !== null && peer.protocol >= BROADCAST_PROTOCOL;
  }

  /** Whether `root`'s changes (without `root`, those of writers that share a tree) are pushed to the peer as deltas, else announced. */
  isEager(peer: PeerLink, root?: NodeId): boolean {
    return !this.speaks(peer) || !this.#lazyIn(this.#keyOf(peer, root)).has(peer.peerId);
  }

  /**
   * Whether what the peer lacks of `modelId` goes to it as a delta: its link is eager in the tree
   * of a writer whose changes it lacks (the delta then carries all it lacks, the union of those
   * trees). Where it lacks nothing, the shared tree's link decides (a version report, or an
   * announcement, tells it we hold as much).
   */
  pushes(peer: PeerLink, modelId: string): boolean {
    const claimable = this.#host.claimable(modelId);
    const state = peer.model(modelId);
    if (!this.speaks(peer) || !claimable || !state) return this.isEager(peer);
    const roots = rootsBeyond(claimable, state.known);
    const self = this.#host.nodeId;
    // Our own edits make our tree (it floods the first time): the one writer seen here first.
    if (roots.includes(self)) this.#track(self);
    if (roots.length === 0) return this.isEager(peer);
    return roots.some((root) => this.isEager(peer, root));
  }

  /** Lazy links and eager links in `root`'s tree (without `root`, the shared tree), for tests and the benchmark. */
  links(peers: readonly PeerLink[], root?: NodeId): { eager: NodeId[]; lazy: NodeId[] } {
    const eager = peers.filter((peer) => this.isEager(peer, root)).map((peer) => peer.peerId);
    return { eager, lazy: peers.filter((peer) => !this.isEager(peer, root)).map((peer) => peer.peerId) };
  }

  /** Writers with a tree of their own here, oldest sighting first. */
  get sourceRoots(): NodeId[] {
    return [...this.#trees.keys()].filter((key) => key !== SHARED) as NodeId[];
  }

  /** Announcement rounds and graft timers scheduled (0 when the broadcast is idle). */
  get scheduled(): number {
    return (this.#round === undefined ? 0 : 1) + this.#missing.size;
  }

  /** `modelId` grew here and a lazy peer may lack it: announce it at the next round. */
  changed(modelId: string): void {
    this.#pending.add(modelId);
    this.#schedule();
  }

  /**
   * `modelId` grew here to what the lazy `peer` holds already (it announced it before the tree
   * brought it): the peer is told at the next round, with the announcements, so its view of us
   * does not wait for anti-entropy.
   */
  caughtUp(peer: PeerLink, modelId: string): void {
    let peers = this.#caughtUp.get(modelId);
    if (!peers) this.#caughtUp.set(modelId, (peers = new Set()));
    peers.add(peer.peerId);
    this.#pending.add(modelId);
    this.#schedule();
  }

  /**
   * A delta from `peer` was handled. A duplicate came by another path first: the link is pruned
   * (lazy both ways) in the tree of every writer it carried; returns the `roots` to tell the peer
   * of (with the ack, or a `prune`; an empty list for a peer before protocol 6, which keeps one
   * tree), or undefined if nothing was pruned. A resend on the same link says nothing about other
   * paths (in a two-device room there is none) and changes nothing. News makes trees for writers
   * seen the first time (a catch-up of many writers excepted), and the link is our way up their
   * trees. News over a link lazy in every tree it came for (anti-entropy, a graft, a connection's
   * first exchange) means no tree reached us: the link is grafted back into them, both ways. News
   * over a link eager in one of them and lazy in another rode along with the first (a delta
   * carries all the peer lacks) and grafts nothing.
   */
  delivered(peer: PeerLink, modelId: string, arrival: DeltaArrival, roots: DeltaRoots): readonly NodeId[] | undefined {
    if (!this.speaks(peer) || arrival === 'resent') return undefined;
    if (arrival === 'duplicate') {
      const keys = this.#keysOf(peer, roots.carried);
      for (const key of keys) {
        this.#lazyIn(key).add(peer.peerId);
        this.#upstream.get(peer.peerId)?.delete(key);
      }
      return this.#wireRoots(peer, keys, roots.carried) ?? [];
    }
    const news = roots.news.length ? roots.news : roots.carried;
    if (news.length <= FRESH_ROOTS_PER_DELTA) for (const root of news) this.#track(root);
    const keys = this.#keysOf(peer, news);
    this.#settleMissing(modelId);
    const grafting = keys.every((key) => this.#lazyIn(key).has(peer.peerId));
    let upstream = this.#upstream.get(peer.peerId);
    if (!upstream) this.#upstream.set(peer.peerId, (upstream = new Set()));
    for (const key of keys) {
      if (grafting) this.#lazyIn(key).delete(peer.peerId);
      if (!this.#lazyIn(key).has(peer.peerId)) upstream.add(key);
    }
    const claimable = this.#host.claimable(modelId);
    if (grafting && claimable) this.#sendGraft(peer, modelId, claimable, this.#wireRoots(peer, keys, news));
    return undefined;
  }

  /** Handles a broadcast message from a ready peer. */
  handle(peer: PeerLink, message: BroadcastMessage): void {
    const keys = this.#keysOf(peer, message.t === 'ihave' ? [] : (message.roots ?? []));
    if (message.t === 'prune') {
      for (const key of keys) {
        this.#lazyIn(key).add(peer.peerId);
        this.#upstream.get(peer.peerId)?.delete(key);
      }
      return;
    }
    const have = VersionVector.fromJSON(message.have);
    if (message.t === 'graft') {
      let wasLazy = false;
      for (const key of keys) wasLazy = this.#lazyIn(key).delete(peer.peerId) || wasLazy;
      this.#host.claimed(peer, message.model, have, undefined, false);
      const sentSeq = peer.sentSeq;
      this.#host.sendDelta(peer, message.model);
      // A graft can cross our `prune` on the way: the peer then takes the link for lazy while we
      // push on it, and if we have nothing to push, it stays so. A peer all of whose neighbors
      // take it for lazy while it takes one of them for eager hears of changes only by chance
      // announcements (seen after many devices wrote at once). So a graft that found the link
      // lazy here is answered, by the delta or else by a graft, so the peer sets the link the
      // way we do whatever crossed; a graft that finds the link eager is not, so this ends.
      const claimable = this.#host.claimable(message.model);
      if (wasLazy && peer.sentSeq === sentSeq && claimable) this.#sendGraft(peer, message.model, claimable, message.roots);
      return;
    }
    this.#host.claimed(peer, message.model, have, message.digest, true);
    const state = peer.model(message.model);
    const ours = this.#host.held(message.model);
    const claimable = this.#host.claimable(message.model);
    if (!state?.confirmed || !ours || !claimable) return;
    if (!ours.includes(state.confirmed)) this.#awaitChange(message.model, peer.peerId);
    // The announcer lacks what we hold: it hears of it at our next round, whatever the fanout.
    if (!this.pushes(peer, message.model) && !state.known.includes(claimable)) {
      let owed = this.#owed.get(message.model);
      if (!owed) this.#owed.set(message.model, (owed = new Set()));
      owed.add(peer.peerId);
      this.#announced.delete(message.model);
      this.changed(message.model);
    }
  }

  /**
   * The peer's connection is gone. If it was our way up the tree, the part of the tree below us
   * may now be cut off from the rest (the overlay's replacement link may lead into it): a few lazy
   * links (`UPSTREAM_LOSS_GRAFTS`, at random) are grafted, so the next change most likely reaches
   * us whichever side it starts from, and the duplicates that follow prune the tree back into
   * shape. Not every lazy link: under churn (a slow device's heartbeats late, the overlay
   * replacing links) each grafted link costs the next edit a duplicate delta and its ack both
   * ways, and grafting all of them made an edit after churn cost over 4N messages. A part cut off
   * anyway hears of changes by announcements, and anti-entropy catches the rest.
   */
  peerRemoved(peerId: NodeId, remaining: readonly PeerLink[]): void {
    for (const lazy of this.#trees.values()) lazy.delete(peerId);
    for (const owed of [...this.#owed.values(), ...this.#caughtUp.values()]) owed.delete(peerId);
    const upstream = this.#upstream.get(peerId);
    this.#upstream.delete(peerId);
    if (!upstream?.size || this.#stopped) return;
    // Per tree we lost our way up, a few of its lazy links; one graft per peer names them all.
    const grafts = new Map<PeerLink, string[]>();
    for (const key of upstream) {
      const lazy = this.#trees.get(key);
      if (!lazy) continue;
      const candidates = remaining.filter((peer) => this.speaks(peer) && this.#keyOf(peer, (key || undefined) as NodeId | undefined) === key && lazy.has(peer.peerId));
      for (const peer of this.#sample(candidates, UPSTREAM_LOSS_GRAFTS)) {
        lazy.delete(peer.peerId);
        grafts.set(peer, [...(grafts.get(peer) ?? []), key]);
      }
    }
    for (const [peer, keys] of grafts) {
      const own = keys.filter((key) => key !== SHARED) as NodeId[];
      for (const roots of [keys.includes(SHARED) ? undefined : null, own.length ? own : null]) {
        if (roots === null) continue;
        for (const modelId of this.#host.models()) {
          const claimable = this.#host.claimable(modelId);
          if (claimable && peer.shares(modelId)) this.#sendGraft(peer, modelId, claimable, roots);
        }
      }
    }
  }

  /** The peers to compare versions with in this anti-entropy period: a few, at random. */
  antiEntropyPeers(peers: readonly PeerLink[]): PeerLink[] {
    return this.#sample(peers, this.#antiEntropyPeers);
  }

  /** Cancels every timer. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#round);
    this.#round = undefined;
    for (const { timer } of this.#missing.values()) this.#timers.clearTimeout(timer);
    this.#missing.clear();
  }

  /** Restarts after `stop` (the engine was started again). */
  start(): void {
    this.#stopped = false;
  }

  #schedule(): void {
    if (this.#round !== undefined || this.#stopped) return;
    this.#round = this.#timers.setTimeout(() => {
      this.#round = undefined;
      this.#announce();
    }, this.#lazyIntervalMs);
  }

  /** One announcement round: per pending model, `ihave` to a few lazy peers that lack it. */
  #announce(): void {
    const models = [...this.#pending];
    this.#pending.clear();
    for (const modelId of models) {
      const claimable = this.#host.claimable(modelId);
      if (!claimable) continue;
      const owed = this.#owed.get(modelId) ?? new Set<NodeId>();
      this.#owed.delete(modelId);
      const caughtUp = this.#caughtUp.get(modelId);
      this.#caughtUp.delete(modelId);
      const lacking = this.#host
        .sharingPeers(modelId)
        .filter((peer) => !this.pushes(peer, modelId) && !peer.model(modelId)!.known.includes(claimable));
      const announced = this.#announced.get(modelId);
      const fresh = !announced?.equals(claimable);
      const targets = new Set(lacking.filter((peer) => owed.has(peer.peerId)));
      const fanout = Math.floor(this.#lazyFanout) + (this.#random() < this.#lazyFanout % 1 ? 1 : 0);
      // Some lazy peers must hear of what we hold, however the draws fall: where no link of ours
      // is eager (we are cut off from the tree), every lacking one; and while no eager peer holds
      // our own latest changes (one refused part of our batch, so it cannot relay the rest), every
      // one lacking those. Rounds go on, at least one peer each, until each was told once.
      // Otherwise a round that drew no peer kept the change from them until anti-entropy (forever,
      // without it). In a working tree this adds nothing: an eager peer acknowledges our edit.
      const self = this.#host.nodeId;
      const sharing = this.#host.sharingPeers(modelId);
      const eager = sharing.filter((peer) => this.isEager(peer, self));
      const isolated = !sharing.some((peer) => [...this.#trees.keys()].some((key) => this.isEager(peer, (key || undefined) as NodeId | undefined)));
      const own = claimable.get(self);
      const ownInTree = eager.some((peer) => peer.model(modelId)!.known.get(self) >= own);
      const mustHear = lacking.filter((peer) => {
        if (targets.has(peer) || peer.told.get(modelId)?.includes(claimable)) return false;
        if (isolated) return true;
        return !ownInTree && peer.model(modelId)!.known.get(self) < own && (peer.told.get(modelId)?.get(self) ?? 0) < own;
      });
      const pool = fresh ? lacking.filter((peer) => !targets.has(peer)) : mustHear;
      for (const peer of this.#sample(pool, mustHear.length ? Math.max(1, fanout) : fanout)) targets.add(peer);
      if (fresh) this.#announced.set(modelId, claimable.clone());
      if (mustHear.some((peer) => !targets.has(peer))) this.#pending.add(modelId);
      if (caughtUp)
        for (const peer of this.#host.sharingPeers(modelId))
          if (caughtUp.has(peer.peerId) && !this.pushes(peer, modelId) && !peer.told.get(modelId)?.includes(claimable)) targets.add(peer);
      if (targets.size === 0) continue;
      const digest = this.#host.ownDigest(modelId);
      for (const peer of targets) {
        peer.send({ t: 'ihave', model: modelId, have: versionSummary(claimable, peer.told.get(modelId)), ...(digest ? { digest } : {}) });
        peer.told.set(modelId, claimable);
      }
    }
    if (this.#pending.size) this.#schedule();
  }

  /** An announced change of `modelId` is not here yet: graft an announcer if it does not come by the tree in time. */
  #awaitChange(modelId: string, announcer: NodeId): void {
    const waiting = this.#missing.get(modelId);
    if (waiting) {
      if (!waiting.announcers.includes(announcer)) waiting.announcers.push(announcer);
      return;
    }
    if (this.#stopped) return;
    const entry = { announcers: [announcer], timer: this.#timers.setTimeout(() => this.#graft(modelId), this.#graftTimeoutMs) };
    this.#missing.set(modelId, entry);
  }

  /**
   * What announcements made us wait for has come (by the tree): the graft timer goes now rather
   * than firing later to find nothing missing, so an idle broadcast has no timer left.
   */
  #settleMissing(modelId: string): void {
    const entry = this.#missing.get(modelId);
    const ours = this.#host.held(modelId);
    if (!entry || !ours) return;
    const peers = new Map(this.#host.sharingPeers(modelId).map((peer) => [peer.peerId, peer]));
    const missing = entry.announcers.some((id) => {
      const confirmed = peers.get(id)?.model(modelId)?.confirmed;
      return confirmed !== undefined && confirmed !== null && !ours.includes(confirmed);
    });
    if (missing) return;
    this.#timers.clearTimeout(entry.timer);
    this.#missing.delete(modelId);
  }

  #graft(modelId: string): void {
    const entry = this.#missing.get(modelId);
    this.#missing.delete(modelId);
    const ours = this.#host.held(modelId);
    const claimable = this.#host.claimable(modelId);
    if (!entry || !ours || !claimable) return;
    const peers = new Map(this.#host.sharingPeers(modelId).map((peer) => [peer.peerId, peer]));
    // The first announcer still connected that holds what we lack; the others wait their turn.
    const holders = entry.announcers.filter((id) => {
      const confirmed = peers.get(id)?.model(modelId)?.confirmed;
      return confirmed !== undefined && confirmed !== null && !ours.includes(confirmed);
    });
    const [first, ...rest] = holders;
    if (first === undefined) return;
    // The link joins the trees of the writers whose changes the announcer holds and we lack.
    const peer = peers.get(first)!;
    const missed = rootsBeyond(peer.model(modelId)!.confirmed!, ours);
    const keys = this.#keysOf(peer, missed);
    for (const key of keys) this.#lazyIn(key).delete(first);
    this.#sendGraft(peer, modelId, claimable, this.#wireRoots(peer, keys, missed));
    for (const id of rest) this.#awaitChange(modelId, id);
  }

  #sendGraft(peer: PeerLink, modelId: string, claimable: VersionVector, roots: readonly NodeId[] | undefined): void {
    const named = roots && keepsSourceTrees(peer.protocol) ? { roots } : {};
    peer.send({ t: 'graft', model: modelId, have: versionSummary(claimable, peer.told.get(modelId)), ...named });
    peer.told.set(modelId, claimable);
  }

  /** The tree `root`'s changes travel on the link to `peer`: its own if kept here and the peer keeps trees per writer, else the shared one. */
  #keyOf(peer: PeerLink, root: NodeId | undefined): string {
    return root !== undefined && keepsSourceTrees(peer.protocol) && this.#trees.has(root) ? root : SHARED;
  }

  /** The trees of `roots` on the link to `peer`, each once (the shared tree where `roots` is empty). */
  #keysOf(peer: PeerLink, roots: readonly NodeId[]): string[] {
    return roots.length === 0 ? [SHARED] : [...new Set(roots.map((root) => this.#keyOf(peer, root)))];
  }

  #lazyIn(key: string): Set<NodeId> {
    return this.#trees.get(key) ?? this.#trees.get(SHARED)!;
  }

  /**
   * The writers to name to `peer` for `keys`: each writer's own tree by its id, the shared tree
   * by a writer among `roots` that has none here (the peer maps each name to its own tree the
   * same way). Undefined where the shared tree alone is meant and no writer stands for it, and
   * for a peer before protocol 6.
   */
  #wireRoots(peer: PeerLink, keys: readonly string[], roots: readonly NodeId[]): readonly NodeId[] | undefined {
    if (!keepsSourceTrees(peer.protocol)) return undefined;
    const named = keys.filter((key) => key !== SHARED) as NodeId[];
    if (keys.includes(SHARED)) {
      const standIn = roots.find((root) => this.#keyOf(peer, root) === SHARED);
      // Only an empty `roots` has none, and then the shared tree is all that is meant.
      if (standIn !== undefined) named.push(standIn);
    }
    return named.length ? named : undefined;
  }

  /**
   * `root` was seen writing: its tree is kept, as the most recently seen. A new one starts with
   * every link eager, so the root's next change floods and its duplicates prune the tree into
   * the paths of first arrival. Past `sourceTrees`, the least recently seen writer's tree is
   * dropped and its changes go by the shared tree (until it makes a new one by writing again).
   */
  #track(root: NodeId): void {
    if (this.#sourceTrees === 0) return;
    const tree = this.#trees.get(root);
    this.#trees.delete(root);
    this.#trees.set(root, tree ?? new Set());
    if (tree || this.#trees.size - 1 <= this.#sourceTrees) return;
    const oldest = [...this.#trees.keys()].find((key) => key !== SHARED)!;
    this.#trees.delete(oldest);
    for (const keys of this.#upstream.values()) keys.delete(oldest);
  }

  /** Up to `count` of `peers`, chosen at random. */
  #sample(peers: readonly PeerLink[], count: number): PeerLink[] {
    const pool = [...peers];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, count);
  }
}
