import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { consoleLogger, type NetLogger } from '../net/logger.js';
import type { PeerConnection } from '../net/transport.js';
import { HyParView, type HyParViewConfig } from './hyparview.js';
import { MemberRoster, type MemberRosterOptions } from './member-roster.js';
import {
  decodeOverlayMessage,
  encodeOverlayMessage,
  isOverlayDecodeError,
  type OverlayMessage,
  type RoutedBody,
  type RouteMessage,
} from './overlay-message.js';
import { OverlayMux } from './overlay-mux.js';
import { OverlayRouter, type OverlayRouterOptions } from './overlay-router.js';
import type { SignalRelay } from './relayed-signaling.js';

/** How the overlay reaches a peer it is not connected to. */
export interface OverlayPort {
  /** Opens a connection to `peer`; true once open. The connection then arrives through `attach`. */
  connect(peer: NodeId): Promise<boolean>;
}

/** Options of `RoomOverlay`. */
export interface RoomOverlayOptions {
  readonly me: NodeId;
  readonly port: OverlayPort;
  readonly hyparview?: Partial<HyParViewConfig>;
  readonly roster?: MemberRosterOptions;
  readonly router?: OverlayRouterOptions;
  /** Upkeep (timeouts, refill, join when alone). Default 2 s. */
  readonly tickIntervalMs?: number;
  /** SHUFFLE period. Default 30 s. */
  readonly shuffleIntervalMs?: number;
  /** Own heartbeat and roster gossip period. Default 10 s. */
  readonly rosterIntervalMs?: number;
  /** News (a changed state digest, a departure) is passed on after at most this delay. Default 1 s. */
  readonly rosterPushDelayMs?: number;
  /** Bad overlay frames tolerated from one peer before its connection is closed. Default 10. */
  readonly maxOffences?: number;
  /** Members a discovery lists now (the signaling server's room, local tabs): reached, and contacts to join through. */
  readonly contacts?: () => readonly NodeId[];
  /** A summary of this node's state; members with the same one hold the same state. */
  readonly digest?: () => string;
  /** Seeded in tests; default `Math.random`. */
  readonly random?: () => number;
  /** Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: NetLogger;
}

/** What the overlay reports about itself. */
export interface OverlayStatus {
  readonly neighbors: readonly NodeId[];
  readonly passive: number;
  /** Members known in the room and reached recently, this node included (`MemberRoster`). */
  readonly known: number;
  readonly reached: number;
}

/** Counters of overlay traffic, for benchmarks. */
export interface OverlayCounters {
  messagesSent: number;
  bytesSent: number;
  refused: number;
}

interface Link {
  readonly connection: PeerConnection;
  readonly mux: OverlayMux;
  /** When the link stopped being wanted by HyParView (undefined: wanted). */
  unwantedSince: number | undefined;
  offences: number;
  /** Local clock of the roster entries last sent on it. */
  rosterSentAt: number | undefined;
  /** Settles once everything sent on it so far was accepted by the transport. */
  lastSend: Promise<void>;
}

/**
 * The partial mesh of one room: HyParView (`HyParView`) decides which peers this node keeps
 * connected, the `MemberRoster` counts who is in the room beyond them, and the `OverlayRouter`
 * carries relayed connection signals and shuffle replies. It speaks over the node's peer
 * connections through `attach` (overlay frames are split off before the sync engine), asks the
 * node for new connections through its `OverlayPort`, and validates every frame it receives: a peer
 * sending bad frames is refused, counted, and cut off after `maxOffences`.
 */
export class RoomOverlay implements SignalRelay {
  readonly me: NodeId;
  readonly hyparview: HyParView;
  readonly roster: MemberRoster;
  readonly router: OverlayRouter;
  readonly counters: OverlayCounters = { messagesSent: 0, bytesSent: 0, refused: 0 };
  private readonly port: OverlayPort;
  private readonly links = new Map<NodeId, Link>();
  /** Messages for peers being connected, sent once their connection is attached. */
  private readonly outbox = new Map<NodeId, { readonly since: number; readonly messages: OverlayMessage[] }>();
  private readonly connecting = new Set<NodeId>();
  private readonly changeListeners: Listeners<[]>;
  private readonly signalListeners: Listeners<[NodeId, unknown]>;
  private readonly logger: NetLogger;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly digest: () => string;
  private readonly contacts: () => readonly NodeId[];
  private readonly maxOffences: number;
  private readonly intervals: { readonly tick: number; readonly shuffle: number; readonly roster: number; readonly push: number };
  private timers: Array<ReturnType<typeof setInterval>> = [];
  private pushTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private fillScheduled = false;
  private nextRouteId = 0;
  private readonly routeIdPrefix: string;

  constructor(options: RoomOverlayOptions) {
    this.me = options.me;
    this.port = options.port;
    this.logger = options.logger ?? consoleLogger;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.digest = options.digest ?? (() => '');
    this.contacts = options.contacts ?? (() => []);
    this.maxOffences = options.maxOffences ?? 10;
    this.intervals = {
      tick: options.tickIntervalMs ?? 2_000,
      shuffle: options.shuffleIntervalMs ?? 30_000,
      roster: options.rosterIntervalMs ?? 10_000,
      push: options.rosterPushDelayMs ?? 1_000,
    };
    for (const [name, value] of Object.entries(this.intervals)) {
      if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`RoomOverlay ${name} interval must be a positive number`);
    }
    this.changeListeners = new Listeners(this.logger, 'overlay change');
    this.signalListeners = new Listeners(this.logger, 'relayed signal');
    this.routeIdPrefix = Math.floor(this.random() * 2 ** 32).toString(36);
    this.roster = new MemberRoster(this.me, this.now, options.roster);
    this.router = new OverlayRouter(this.me, this.now, options.router);
    this.hyparview = new HyParView(
      this.me,
      {
        send: (to, message) => this.send(to, message),
        shuffleReply: (origin, trail, nodes) => this.route(origin, { t: 'shuffle-reply', nodes }, trail.slice(1, -1).reverse()),
        disconnect: (peer) => this.closeAfterSends(peer),
        neighborUp: (peer) => this.neighborUp(peer),
        neighborDown: () => this.changed(),
      },
      this.random,
      this.now,
      options.hyparview,
    );
  }

  /** Starts the timers; the node joins through the first member `learn` reports. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.roster.beat(this.digest());
    this.scheduleFill();
    this.timers = [
      setInterval(() => this.tick(), this.intervals.tick),
      setInterval(() => {
        this.hyparview.shuffle();
        this.bridge();
      }, this.intervals.shuffle),
      setInterval(() => this.gossipRoster(true), this.intervals.roster),
    ];
    this.tick();
  }

  /** Leaves: tells every neighbor (and, through them, the room) that this node is gone. */
  stop(): void {
    if (!this.running) return;
    const leaving = this.roster.leaving();
    for (const peer of this.hyparview.activeView) this.sendNow(peer, { t: 'roster', entries: [leaving] });
    this.hyparview.leave();
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.pushTimer);
    this.pushTimer = undefined;
    this.outbox.clear();
  }

  /** Subscribes to changes of neighbors or roster counts; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    return this.changeListeners.add(listener);
  }

  /** Subscribes to signals relayed to us over the overlay. */
  onSignal(listener: (from: NodeId, data: unknown) => void): () => void {
    return this.signalListeners.add(listener);
  }

  get status(): OverlayStatus {
    const counts = this.roster.counts();
    return { neighbors: this.hyparview.activeView, passive: this.hyparview.passiveView.length, known: counts.known, reached: counts.reached };
  }

  /** A member heard of by discovery: a passive candidate, and a contact to join through when alone. */
  learn(peer: NodeId): void {
    if (peer === this.me) return;
    this.roster.heard(peer, false);
    this.hyparview.learn(peer);
    this.scheduleFill();
    this.changed();
  }

  /**
   * Joins through a random known member when alone, else fills free slots; once for all members
   * learned in one turn, so the choice is among all of them, not the first reported.
   */
  private scheduleFill(): void {
    if (this.fillScheduled || !this.running) return;
    this.fillScheduled = true;
    queueMicrotask(() => {
      this.fillScheduled = false;
      if (!this.running) return;
      if (this.alone()) this.joinSomewhere();
      else this.hyparview.fill();
    });
  }

  /**
   * Takes an open (authenticated) connection: overlay frames are split off, and the connection
   * without them is returned for the sync engine. Kept while HyParView wants the peer; closed
   * after a grace period otherwise.
   */
  attach(connection: PeerConnection): PeerConnection {
    const peer = connection.peerId;
    const previous = this.links.get(peer);
    if (previous) previous.mux.dispose();
    const mux = new OverlayMux(connection, (frame) => this.receiveFrame(link, frame));
    const link: Link = { connection, mux, unwantedSince: undefined, offences: 0, rosterSentAt: undefined, lastSend: Promise.resolve() };
    if (!this.hyparview.wants(peer)) link.unwantedSince = this.now();
    this.links.set(peer, link);
    this.roster.heard(peer, true);
    connection.onClose(() => {
      mux.dispose();
      if (this.links.get(peer) !== link) return;
      this.links.delete(peer);
      this.hyparview.connectionClosed(peer);
      this.changed();
    });
    const queued = this.outbox.get(peer);
    this.outbox.delete(peer);
    for (const message of queued?.messages ?? []) this.sendNow(peer, message);
    this.changed();
    return mux.syncSide;
  }

  /** Relays a (sealed) connection signal to `to` over the overlay; false with no way to send it. */
  relaySignal(to: NodeId, data: unknown): boolean {
    return this.route(to, { t: 'signal', data }, this.router.routeTo(to) ?? []);
  }

  /** True if a connection to `peer` is attached. */
  isConnected(peer: NodeId): boolean {
    return this.links.get(peer)?.connection.state === 'open';
  }

  private alone(): boolean {
    return this.hyparview.activeView.length === 0 && ![...this.links.keys()].some((peer) => this.hyparview.wants(peer)) && this.connecting.size === 0;
  }

  /**
   * Joins through a random member: one of the passive view, else one a discovery lists or the
   * roster heard of (after a partition or an offline spell the passive view may be empty).
   */
  private joinSomewhere(): void {
    let candidates = this.hyparview.passiveView;
    if (candidates.length === 0) candidates = [...new Set([...this.contacts(), ...this.roster.reachedMembers()])].filter((peer) => peer !== this.me);
    const contact = candidates[Math.floor(this.random() * candidates.length)];
    if (contact !== undefined) this.hyparview.join(contact);
  }

  private tick(): void {
    if (!this.running) return;
    for (const peer of this.contacts()) this.roster.heard(peer, false);
    for (const peer of this.links.keys()) if (this.isConnected(peer)) this.roster.heard(peer, true);
    this.hyparview.tick();
    if (this.alone()) this.joinSomewhere();
    const now = this.now();
    const grace = this.hyparview.config.neighborTimeoutMs;
    for (const [peer, link] of this.links) {
      if (this.hyparview.wants(peer)) link.unwantedSince = undefined;
      else if (link.unwantedSince === undefined) link.unwantedSince = now;
      else if (now - link.unwantedSince >= grace) link.connection.close('overlay: not a neighbor');
    }
    for (const [peer, queued] of this.outbox) if (now - queued.since >= grace && !this.connecting.has(peer)) this.outbox.delete(peer);
    this.roster.prune();
  }

  /**
   * Two groups that formed apart (a partition that healed, a server that listed members late)
   * stay apart in plain HyParView: nobody is alone, so nobody rejoins. A member that a discovery or
   * our passive view lists, but whose heartbeat has not reached us for `reachedForMs`, is in
   * another group: one JOIN through it makes the two one.
   */
  private bridge(): void {
    if (this.alone() || this.connecting.size > 0) return;
    const candidates = this.roster.unreached([...new Set([...this.contacts(), ...this.hyparview.passiveView])]).filter((peer) => !this.links.has(peer));
    const contact = candidates[Math.floor(this.random() * candidates.length)];
    if (contact !== undefined) this.hyparview.join(contact);
  }

  private send(to: NodeId, message: OverlayMessage): void {
    if (this.isConnected(to)) {
      this.sendNow(to, message);
      return;
    }
    const queued = this.outbox.get(to);
    if (queued) queued.messages.push(message);
    else this.outbox.set(to, { since: this.now(), messages: [message] });
    if (this.connecting.has(to) || !this.running) return;
    this.connecting.add(to);
    this.port.connect(to).then(
      (open) => this.connectSettled(to, open),
      () => this.connectSettled(to, false),
    );
  }

  private connectSettled(peer: NodeId, open: boolean): void {
    this.connecting.delete(peer);
    if (!open) this.failed(peer);
  }

  /**
   * A connection with `peer` opened but was closed before it could be attached: its
   * authentication failed, or it closed during the handshake. For HyParView that attempt failed
   * like one that never opened (the port reported it open already); unreported, a JOIN or
   * NEIGHBOR request sent through it would wait out `neighborTimeoutMs` before anything is tried
   * again, and a room of two would stay apart that long.
   */
  connectionRefused(peer: NodeId): void {
    if (!this.isConnected(peer)) this.failed(peer);
  }

  private failed(peer: NodeId): void {
    if (!this.running) return;
    this.outbox.delete(peer);
    this.router.forget(peer);
    this.hyparview.connectFailed(peer);
    this.changed();
  }

  private sendNow(to: NodeId, message: OverlayMessage): void {
    const link = this.links.get(to);
    if (!link) return;
    const frame = encodeOverlayMessage(message);
    this.counters.messagesSent++;
    this.counters.bytesSent += frame.length;
    link.lastSend = link.connection.send(frame).catch((error: unknown) => this.logger.warn(`overlay message to ${to} failed`, error));
  }

  /** Closes the connection once what was queued on it is sent. */
  private closeAfterSends(peer: NodeId): void {
    const link = this.links.get(peer);
    this.outbox.delete(peer);
    if (!link) return;
    // Once the DISCONNECT (sent just before) has left.
    void link.lastSend.finally(() => link.connection.close('overlay: no longer neighbors'));
  }

  private route(to: NodeId, body: RoutedBody, path: readonly NodeId[]): boolean {
    const full: RouteMessage = { t: 'route', id: `${this.routeIdPrefix}-${++this.nextRouteId}`, from: this.me, to, ttl: this.router.floodTtl, path, trail: [this.me], body };
    const decision = path.length > 0 && this.isConnected(path[0]!)
      ? ({ kind: 'forward', to: [path[0]!], message: { ...full, path: path.slice(1) } } as const)
      : this.router.originate(full, (peer) => this.isConnected(peer), this.hyparview.activeView.filter((peer) => this.isConnected(peer)));
    if (decision.kind !== 'forward') return false;
    for (const next of decision.to) this.sendNow(next, decision.message);
    return true;
  }

  private receiveFrame(link: Link, frame: Uint8Array): void {
    const from = link.connection.peerId;
    const message = decodeOverlayMessage(frame);
    if (isOverlayDecodeError(message)) return this.refuse(link, message.error);
    if (message.t === 'route') return this.receiveRouted(link, message);
    if (message.t === 'roster') return this.receiveRoster(message.entries);
    if (message.t === 'forward-join' || message.t === 'shuffle') this.router.learn([...message.trail, from]);
    this.hyparview.receive(from, message);
    if (message.t === 'join' || message.t === 'neighbor' || message.t === 'disconnect') this.changed();
  }

  private receiveRouted(link: Link, message: RouteMessage): void {
    const from = link.connection.peerId;
    const decision = this.router.receive(message, from, (peer) => this.isConnected(peer), this.hyparview.activeView.filter((peer) => this.isConnected(peer)));
    if (decision.kind === 'forward') {
      for (const next of decision.to) this.sendNow(next, decision.message);
      return;
    }
    if (decision.kind === 'drop') {
      this.logger.debug?.(`routed message from ${message.from} dropped: ${decision.reason}`);
      return;
    }
    if (message.body.t === 'shuffle-reply') this.hyparview.receiveShuffleReply(message.body.nodes);
    else this.signalListeners.emit(message.from, message.body.data);
    this.changed();
  }

  private receiveRoster(entries: Parameters<MemberRoster['merge']>[0]): void {
    const changed = this.roster.merge(entries);
    if (changed.length === 0) return;
    for (const entry of changed) if (!entry.left) this.hyparview.learn(entry.id);
    this.scheduleFill();
    if (changed.news) this.schedulePush();
    this.changed();
  }

  /** Our digest changed, or news came in: pass it on soon, once for all that arrives meanwhile. */
  private schedulePush(): void {
    if (this.pushTimer !== undefined || !this.running) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.gossipRoster(false);
    }, this.intervals.push);
  }

  /** Sends each neighbor the roster entries changed since it was last sent some (after a beat when `beat`). */
  private gossipRoster(beat: boolean): void {
    if (!this.running) return;
    const digest = this.digest();
    if (beat) this.roster.beat(digest);
    else this.roster.setDigest(digest);
    const now = this.now();
    for (const peer of this.hyparview.activeView) {
      const link = this.links.get(peer);
      if (!link) continue;
      const entries = this.roster.entries(link.rosterSentAt);
      link.rosterSentAt = now;
      this.sendNow(peer, { t: 'roster', entries });
    }
    this.changed();
  }

  /** Call when this node's state changed: its new digest goes out with the next push. */
  stateChanged(): void {
    this.schedulePush();
  }

  private neighborUp(peer: NodeId): void {
    const link = this.links.get(peer);
    if (link) {
      link.unwantedSince = undefined;
      // A new neighbor gets the whole roster at once: that is how a newcomer learns the room.
      link.rosterSentAt = this.now();
      this.sendNow(peer, { t: 'roster', entries: this.roster.entries() });
    }
    this.changed();
  }

  private refuse(link: Link, reason: string): void {
    this.counters.refused++;
    link.offences++;
    this.logger.warn(`overlay frame from ${link.connection.peerId} refused: ${reason}`);
    if (link.offences >= this.maxOffences) link.connection.close(`overlay: ${link.offences} bad frames`);
  }

  private changed(): void {
    this.changeListeners.emit();
  }
}
