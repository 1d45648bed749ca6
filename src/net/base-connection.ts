import type { NodeId } from '../crdt/dot.js';
import { Listeners } from '../util/listeners.js';
import { HeldMessages } from './held-messages.js';
import type { NetLogger } from './logger.js';
import { ConnectionState, type PeerConnection } from './transport.js';

/**
 * Messages that arrive before anyone listens are kept (up to this many bytes) and handed to the
 * first message listener, so nothing is lost between `connect()` resolving and `onMessage`.
 */
const DEFAULT_MAX_EARLY_BYTES = 64 * 1024 * 1024;

/**
 * What every `PeerConnection` shares: its state, its listeners (called safely), buffering until the
 * first message listener, and a close that happens exactly once.
 */
export abstract class BaseConnection implements PeerConnection {
  private currentState: ConnectionState = ConnectionState.connecting;
  private closeReason: string | undefined;
  private readonly messages: HeldMessages;
  private readonly closeListeners: Listeners<[string]>;

  protected constructor(
    readonly peerId: NodeId,
    readonly via: string,
    protected readonly logger: NetLogger,
    maxEarlyBytes: number = DEFAULT_MAX_EARLY_BYTES,
  ) {
    this.messages = new HeldMessages(logger, `${via} message`, maxEarlyBytes, (reason) => this.close(reason));
    this.closeListeners = new Listeners(logger, `${via} close`);
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  abstract send(message: Uint8Array): Promise<void>;
  abstract close(reason?: string): void;

  onMessage(listener: (message: Uint8Array) => void): () => void {
    return this.messages.add(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    if (this.closeReason !== undefined) {
      // Subscribing late still hears about the close, once.
      const reason = this.closeReason;
      let subscribed = true;
      queueMicrotask(() => {
        if (subscribed) safeCall(this.logger, listener, reason);
      });
      return () => {
        subscribed = false;
      };
    }
    return this.closeListeners.add(listener);
  }

  /** Moves from `connecting` to `open`. */
  protected markOpen(): void {
    if (this.currentState === ConnectionState.connecting) this.currentState = ConnectionState.open;
  }

  /** Hands a whole incoming message to the listeners, or keeps it until there is one. */
  protected receive(message: Uint8Array): void {
    if (this.currentState === ConnectionState.closed) return;
    this.messages.deliver(message);
  }

  /** Marks the connection closed and tells the close listeners; false if it already was closed. */
  protected markClosed(reason: string): boolean {
    if (this.currentState === ConnectionState.closed) return false;
    this.currentState = ConnectionState.closed;
    this.closeReason = reason;
    this.closeListeners.emit(reason);
    this.closeListeners.clear();
    this.messages.clear();
    return true;
  }
}

function safeCall(logger: NetLogger, listener: (reason: string) => void, reason: string): void {
  try {
    listener(reason);
  } catch (error) {
    logger.warn('a close listener threw', error);
  }
}
