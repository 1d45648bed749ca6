import type { NodeId } from '../crdt/dot.js';
import { BaseConnection } from './base-connection.js';
import type { NetLogger } from './logger.js';
import { ConnectionState } from './transport.js';

/** What a memory connection reports to the network that made it. */
export interface MemoryConnectionHooks {
  readonly maxMessageBytes: number;
  /** Counts one delivered message. */
  delivered(bytes: number): void;
  /** Called once when this end closed. */
  closed(connection: MemoryConnection): void;
}

/** One node's side of a link being made. */
export interface MemoryLinkSide {
  readonly node: NodeId;
  readonly logger: NetLogger;
  readonly hooks: MemoryConnectionHooks;
}

/**
 * One end of an in-memory link. Messages are copied and delivered in order on a later microtask;
 * a graceful close arrives after the messages sent before it, a cut (partition) drops them.
 */
export class MemoryConnection extends BaseConnection {
  private other: MemoryConnection | undefined;
  private severed = false;

  private constructor(
    peerId: NodeId,
    via: string,
    logger: NetLogger,
    private readonly hooks: MemoryConnectionHooks,
  ) {
    super(peerId, via, logger);
  }

  /** Makes both ends of a link, already open: `[a's end (to b), b's end (to a)]`. */
  static pair(a: MemoryLinkSide, b: MemoryLinkSide, via: string): [MemoryConnection, MemoryConnection] {
    const endA = new MemoryConnection(b.node, via, a.logger, a.hooks);
    const endB = new MemoryConnection(a.node, via, b.logger, b.hooks);
    endA.other = endB;
    endB.other = endA;
    endA.markOpen();
    endB.markOpen();
    return [endA, endB];
  }

  send(message: Uint8Array): Promise<void> {
    if (this.state !== ConnectionState.open || this.severed || !this.other) {
      return Promise.reject(new Error(`connection to ${this.peerId} is closed`));
    }
    if (message.byteLength > this.hooks.maxMessageBytes) {
      return Promise.reject(
        new RangeError(`message of ${message.byteLength} bytes exceeds the limit of ${this.hooks.maxMessageBytes}`),
      );
    }
    const copy = message.slice();
    const other = this.other;
    queueMicrotask(() => {
      if (this.severed || other.severed) return;
      this.hooks.delivered(copy.byteLength);
      other.receive(copy);
    });
    return Promise.resolve();
  }

  close(reason = 'closed'): void {
    if (!this.markClosed(reason)) return;
    this.hooks.closed(this);
    const other = this.other;
    if (other) queueMicrotask(() => other.closedByPeer(reason));
  }

  /** The network cut this link: messages in flight are lost and both ends close. */
  sever(reason: string): void {
    if (this.state === ConnectionState.closed) return;
    this.severed = true;
    queueMicrotask(() => {
      if (this.markClosed(reason)) this.hooks.closed(this);
    });
  }

  private closedByPeer(reason: string): void {
    if (this.severed) return;
    if (this.markClosed(`closed by peer: ${reason}`)) this.hooks.closed(this);
  }
}
