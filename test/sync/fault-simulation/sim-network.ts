import type { NodeId } from '../../../src/crdt/dot.js';
import { ConnectionState, type PeerConnection } from '../../../src/net/transport.js';

/**
 * The simulation's network. Unlike `MemoryNetwork`, which delivers every message on the next
 * microtask, nothing moves here until the simulation delivers it: each direction of each
 * connection is a FIFO queue, and the simulation picks which queue delivers next. So a seed decides
 * every interleaving, delay and loss.
 *
 * What is modelled, and why: the sync engine assumes what WebRTC data channels give, a reliable,
 * ordered stream per connection. So within one connection messages are never reordered, duplicated
 * or lost while it stays open. Losses are connection resets: the connection closes on both ends,
 * a random prefix of what was in flight still arrives first, the rest is gone. Delays are queues
 * the simulation leaves alone for a while; reordering is between connections (a change reaching a
 * node over two paths in either order). Duplicates are what a reset makes: a sender that never got
 * the ack sends again what the receiver may already hold, over the next connection.
 */
export class SimNetwork {
  readonly #links = new Set<SimLink>();

  /** Opens a connection between `a` and `b`: `[a's end, b's end]`. */
  open(a: NodeId, b: NodeId, label: string, slow: boolean, onSend?: (from: NodeId, message: Uint8Array) => void): [SimConnection, SimConnection] {
    const link = new SimLink(a, b, label, slow, (closed) => this.#links.delete(closed), onSend);
    this.#links.add(link);
    return link.ends;
  }

  /** Open links, in the order they were made (deterministic). */
  get links(): readonly SimLink[] {
    return [...this.#links];
  }

  /** Queues (directions of open links) with messages in flight. */
  busyQueues(): SimQueue[] {
    return this.links.flatMap((link) => link.queues.filter((queue) => queue.messages.length > 0));
  }

  get inFlight(): number {
    return this.links.reduce((sum, link) => sum + link.queues.reduce((n, queue) => n + queue.messages.length, 0), 0);
  }

  /** The open link between `a` and `b`, if any. */
  linkBetween(a: NodeId, b: NodeId): SimLink | undefined {
    return this.links.find((link) => (link.a === a && link.b === b) || (link.a === b && link.b === a));
  }
}

/** One direction of a link: messages `from` sent, waiting to reach the other end. */
export interface SimQueue {
  readonly link: SimLink;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly messages: Uint8Array[];
}

/** Both ends of one connection and its two queues. */
export class SimLink {
  readonly ends: [SimConnection, SimConnection];
  readonly queues: [SimQueue, SimQueue];
  #open = true;

  constructor(
    readonly a: NodeId,
    readonly b: NodeId,
    readonly label: string,
    /** A slow link: the simulation delivers its messages less often. */
    readonly slow: boolean,
    private readonly onClosed: (link: SimLink) => void,
    /** Sees every message as it is sent. */
    readonly onSend?: (from: NodeId, message: Uint8Array) => void,
  ) {
    this.queues = [
      { link: this, from: a, to: b, messages: [] },
      { link: this, from: b, to: a, messages: [] },
    ];
    const endA = new SimConnection(b, this, this.queues[0]);
    const endB = new SimConnection(a, this, this.queues[1]);
    this.ends = [endA, endB];
  }

  get open(): boolean {
    return this.#open;
  }

  /** Delivers the oldest message of `queue`; false if it had none. */
  deliver(queue: SimQueue): boolean {
    const message = queue.messages.shift();
    if (!message || !this.#open) return false;
    this.#endOf(queue.to).receive(message);
    return true;
  }

  /**
   * Resets the connection: the first `keep(queue)` messages of each queue still arrive, the rest
   * are lost, then both ends close with `reason`.
   */
  reset(reason: string, keep: (queue: SimQueue) => number = () => 0): void {
    if (!this.#open) return;
    for (const queue of this.queues) {
      const kept = Math.min(keep(queue), queue.messages.length);
      for (let i = 0; i < kept; i++) this.deliver(queue);
      queue.messages.length = 0;
    }
    this.#close(reason);
  }

  /**
   * A close by one end (the engine replacing a connection, or refusing a peer). Modelled as a
   * reset losing what is in flight: delivering it here would run the other engine inside this
   * one's call.
   */
  closeFrom(_end: SimConnection, reason: string): void {
    this.reset(reason);
  }

  #close(reason: string): void {
    this.#open = false;
    this.onClosed(this);
    for (const end of this.ends) end.closed(reason);
  }

  #endOf(node: NodeId): SimConnection {
    return this.ends[0].peerId === node ? this.ends[1] : this.ends[0];
  }
}

/** One end of a `SimLink`, as the sync engine sees it. */
export class SimConnection implements PeerConnection {
  readonly via = 'simulation';
  #state: ConnectionState = ConnectionState.open;
  readonly #messageListeners = new Set<(message: Uint8Array) => void>();
  readonly #closeListeners = new Set<(reason: string) => void>();

  constructor(
    readonly peerId: NodeId,
    private readonly link: SimLink,
    private readonly outgoing: SimQueue,
  ) {}

  get state(): ConnectionState {
    return this.#state;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#state !== ConnectionState.open) return Promise.reject(new Error(`connection to ${this.peerId} is closed`));
    this.link.onSend?.(this.outgoing.from, message);
    this.outgoing.messages.push(message.slice());
    return Promise.resolve();
  }

  onMessage(listener: (message: Uint8Array) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  close(reason = 'closed'): void {
    if (this.#state === ConnectionState.closed) return;
    this.link.closeFrom(this, reason);
  }

  /** @internal */
  receive(message: Uint8Array): void {
    if (this.#state !== ConnectionState.open) return;
    for (const listener of [...this.#messageListeners]) listener(message);
  }

  /** @internal */
  closed(reason: string): void {
    if (this.#state === ConnectionState.closed) return;
    this.#state = ConnectionState.closed;
    for (const listener of [...this.#closeListeners]) listener(reason);
    this.#messageListeners.clear();
    this.#closeListeners.clear();
  }
}
