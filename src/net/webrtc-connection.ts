import type { NodeId } from '../crdt/dot.js';
import { BackpressuredSender, type BackpressureOptions, type DataChannelLike } from './backpressured-sender.js';
import { BaseConnection } from './base-connection.js';
import type { NetLogger } from './logger.js';
import { DEFAULT_CHUNK_BYTES, encodeCloseFrame, MessageFramer, PING_FRAME, PONG_FRAME } from './message-framer.js';
import { MessageReassembler } from './message-reassembler.js';
import { PeerLiveness } from './peer-liveness.js';
import { ConnectionState } from './transport.js';

/** What a WebRTC connection needs from the transport that made it. */
export interface WebRtcConnectionOptions {
  readonly peerId: NodeId;
  readonly via: string;
  readonly logger: NetLogger;
  /** Names the signaling session that made this connection. */
  readonly session: string;
  /** The open data channel. */
  readonly channel: DataChannelLike;
  /** Both DTLS fingerprints (see `PeerConnection.channelBinding`), if known. */
  readonly channelBinding?: Uint8Array;
  readonly maxMessageBytes: number;
  /** Payload bytes per data-channel frame. Default 16 KiB. */
  readonly chunkBytes?: number;
  readonly backpressure?: BackpressureOptions;
  /** Liveness check period; 0 turns it off. */
  readonly heartbeatMs: number;
  /** Tears the peer connection down at once (idempotent). */
  readonly teardown: () => void;
  /** Called once, when this connection closed. */
  readonly closed: (connection: WebRtcConnection) => void;
}

/**
 * After a local close the data channel is closed gracefully (so the close notice and earlier frames
 * still arrive) and the peer connection torn down when it finished; this long at the most.
 */
const CLOSE_GRACE_MS = 5000;
/** How often a closing connection looks whether its channel's buffer has drained. */
const DRAIN_CHECK_MS = 10;

/**
 * One WebRTC data channel to a peer, carrying messages of any size: each is split into chunk
 * frames, sent under backpressure (so memory stays flat however large the message) and joined on
 * the other side. A close tells the peer why.
 *
 * A peer can vanish without a word (a phone that lost its network, a frozen laptop); the data
 * channel would notice only when ICE gives up, about 30 s later. So a peer silent for two
 * heartbeats is probed with a ping, which it answers at once on receipt, and the connection
 * ends if the answer has not come by a later heartbeat. Timers of background tabs may run late,
 * but a probe's answer does not depend on the peer's timers, so a slow tab is not taken for gone.
 */
export class WebRtcConnection extends BaseConnection {
  readonly session: string;
  readonly channelBinding: Uint8Array | undefined;
  private readonly channel: DataChannelLike;
  private readonly maxMessageBytes: number;
  private readonly framer: MessageFramer;
  private readonly reassembler: MessageReassembler;
  private readonly sender: BackpressuredSender;
  private readonly teardown: () => void;
  private readonly onClosed: (connection: WebRtcConnection) => void;
  private readonly liveness: PeerLiveness | undefined;
  private readonly heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: WebRtcConnectionOptions) {
    super(options.peerId, options.via, options.logger);
    this.session = options.session;
    this.channelBinding = options.channelBinding;
    this.channel = options.channel;
    this.maxMessageBytes = options.maxMessageBytes;
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.framer = new MessageFramer(chunkBytes);
    this.reassembler = new MessageReassembler({
      maxMessageBytes: this.maxMessageBytes,
      maxChunkBytes: Math.max(chunkBytes, 16 * DEFAULT_CHUNK_BYTES),
    });
    this.sender = new BackpressuredSender(this.channel, options.backpressure);
    this.teardown = options.teardown;
    this.onClosed = options.closed;
    if (options.heartbeatMs > 0) {
      this.liveness = new PeerLiveness(2 * options.heartbeatMs, options.heartbeatMs);
      this.liveness.heard(this.peerId);
      this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatMs);
    }
    this.markOpen();
  }

  /** Bytes queued in the data channel now; stays near the backpressure high-water mark at most. */
  get bufferedAmount(): number {
    return this.state === ConnectionState.open ? this.channel.bufferedAmount : 0;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.state !== ConnectionState.open) return Promise.reject(new Error(`connection to ${this.peerId} is closed`));
    if (!(message instanceof Uint8Array)) return Promise.reject(new TypeError('a message must be a Uint8Array'));
    if (message.byteLength > this.maxMessageBytes) {
      return Promise.reject(
        new RangeError(`message of ${message.byteLength} bytes exceeds the limit of ${this.maxMessageBytes}`),
      );
    }
    // Frames are cut lazily while the channel drains: a copy keeps the caller free to reuse its buffer.
    const sent = this.sender.write(this.framer.frames(message.slice()));
    sent.catch((error: Error) => this.failed(error));
    return sent;
  }

  close(reason = 'closed'): void {
    if (!this.markClosed(reason)) return;
    clearInterval(this.heartbeat);
    this.sender.fail(new Error(`connection to ${this.peerId} closed: ${reason}`));
    const closeChannel = (): void => {
      try {
        this.channel.close();
      } catch (error) {
        this.logger.debug?.(`closing the data channel to ${this.peerId} failed`, error);
      }
    };
    try {
      if (this.channel.readyState === 'open') this.channel.send(encodeCloseFrame(reason));
    } catch (error) {
      this.logger.debug?.(`the close notice to ${this.peerId} could not be sent`, error);
    }
    // Closing the channel (not the peer connection) ends it in order, but Chromium drops what is
    // still in the channel's buffer when `close` is called: so wait until the buffer (the close
    // notice, at least) has gone out, checking often since nothing announces an empty buffer.
    const started = Date.now();
    const whenDrained = (): void => {
      if (this.channel.readyState !== 'open' || this.channel.bufferedAmount === 0 || Date.now() - started >= CLOSE_GRACE_MS) closeChannel();
      else setTimeout(whenDrained, DRAIN_CHECK_MS);
    };
    whenDrained();
    setTimeout(this.teardown, CLOSE_GRACE_MS);
    this.onClosed(this);
  }

  /** @internal One frame from the data channel. */
  frame(data: Uint8Array): void {
    if (this.state !== ConnectionState.open) return;
    this.liveness?.heard(this.peerId);
    const result = this.reassembler.push(data);
    switch (result.kind) {
      case 'ping':
        this.sendControl(PONG_FRAME);
        break;
      case 'pong':
        break;
      case 'message':
        this.receive(result.message);
        break;
      case 'close':
        this.end(`closed by peer: ${result.reason}`);
        break;
      case 'error':
        // Chunks cannot be skipped on a reliable ordered channel: the stream is broken for good.
        this.logger.warn(`invalid data from ${this.peerId}: ${result.reason}`);
        this.close(`invalid data: ${result.reason}`);
        break;
      case 'pending':
        break;
    }
  }

  /** @internal The peer connection ended under this connection (or the peer said goodbye). */
  end(reason: string): void {
    clearInterval(this.heartbeat);
    if (!this.markClosed(reason)) {
      this.teardown();
      return;
    }
    this.sender.fail(new Error(`connection to ${this.peerId} closed: ${reason}`));
    this.teardown();
    this.onClosed(this);
  }

  private checkLiveness(): void {
    const verdict = this.liveness!.tick();
    if (verdict.vanished.length > 0) this.end('the peer stopped answering');
    else if (verdict.probe.length > 0) this.sendControl(PING_FRAME);
  }

  /**
   * A one-byte frame straight onto the channel, beside the queue: probes and answers must not wait
   * behind a large message, and carrying no payload, their place among a message's chunks does
   * not matter to the reassembler.
   */
  private sendControl(kind: number): void {
    try {
      if (this.channel.readyState === 'open') this.channel.send(new Uint8Array([kind]));
    } catch (error) {
      this.logger.debug?.(`liveness frame to ${this.peerId} failed`, error);
    }
  }

  private failed(error: Error): void {
    if (this.state === ConnectionState.open) this.end(`sending failed: ${error.message}`);
  }
}
