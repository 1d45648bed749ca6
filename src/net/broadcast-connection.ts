import type { NodeId } from '../crdt/dot.js';
import { BaseConnection } from './base-connection.js';
import type { NetLogger } from './logger.js';
import { ConnectionState } from './transport.js';

/** What a broadcast connection needs from its transport. */
export interface BroadcastConnectionHost {
  readonly maxMessageBytes: number;
  postData(connection: BroadcastConnection, seq: number, data: Uint8Array): void;
  /** The connection closed; `notify` says whether the peer must be told. */
  closed(connection: BroadcastConnection, reason: string, notify: boolean): void;
}

/** One connection carried over the room's BroadcastChannel, numbered so a lost message is noticed. */
export class BroadcastConnection extends BaseConnection {
  private sent = 0;
  private received = 0;

  constructor(
    peerId: NodeId,
    via: string,
    logger: NetLogger,
    /** Names this connection on the channel; chosen by the side that opened it. */
    readonly connectionId: string,
    private readonly host: BroadcastConnectionHost,
  ) {
    super(peerId, via, logger);
  }

  send(message: Uint8Array): Promise<void> {
    if (this.state !== ConnectionState.open) return Promise.reject(new Error(`connection to ${this.peerId} is closed`));
    if (message.byteLength > this.host.maxMessageBytes) {
      return Promise.reject(
        new RangeError(`message of ${message.byteLength} bytes exceeds the limit of ${this.host.maxMessageBytes}`),
      );
    }
    try {
      // postMessage clones synchronously, so the caller may reuse `message` at once.
      this.host.postData(this, ++this.sent, message);
    } catch (error) {
      this.end(`could not post a message (${error instanceof Error ? error.message : String(error)})`, true);
      return Promise.reject(new Error(`connection to ${this.peerId} failed to send`));
    }
    return Promise.resolve();
  }

  close(reason = 'closed'): void {
    this.end(reason, true);
  }

  /** @internal */
  open(): void {
    this.markOpen();
  }

  /**
   * @internal A data message for this connection. A gap or an oversized message breaks the
   * promise of reliable delivery, so the connection closes; returns why, for the ignored count.
   */
  deliver(seq: number, data: Uint8Array): string | undefined {
    if (this.state !== ConnectionState.open) return undefined;
    const problem =
      seq !== this.received + 1
        ? `message ${this.received + 1} from ${this.peerId} was lost`
        : data.byteLength > this.host.maxMessageBytes
          ? `message of ${data.byteLength} bytes exceeds the limit of ${this.host.maxMessageBytes}`
          : undefined;
    if (problem !== undefined) {
      this.end(problem, true);
      return problem;
    }
    this.received = seq;
    this.receive(data);
    return undefined;
  }

  /** @internal Closes without telling the peer (it told us, or it is gone). */
  end(reason: string, notify: boolean): void {
    if (this.markClosed(reason)) this.host.closed(this, reason, notify);
  }
}
