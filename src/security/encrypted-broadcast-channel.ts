import {
  defaultBroadcastChannel,
  type BroadcastChannelConstructor,
  type BroadcastChannelLike,
} from '../net/broadcast-channel-like.js';
import { consoleLogger, type NetLogger } from '../net/logger.js';
import { decodeBinaryJson, encodeBinaryJson } from './binary-json.js';
import { OrderedQueue } from './ordered-queue.js';
import type { SealingKeys } from './room-keys.js';
import { DEFAULT_MAX_SEALED_BYTES, OpenFailureKind, isOpenFailure, openBytes, sealBytes } from './sealed-box.js';

/** A channel message that was dropped. */
export interface BroadcastRejection {
  /** The BroadcastChannel name. */
  readonly channel: string;
  readonly kind: OpenFailureKind;
  readonly reason: string;
}

/** Options of `encryptedBroadcastChannel`. */
export interface EncryptedBroadcastChannelOptions {
  /** The channel carrying the sealed messages. Default: the browser's `BroadcastChannel`. */
  readonly BroadcastChannelImpl?: BroadcastChannelConstructor;
  /** Called for every message that fails to open: `wrong-key`/`not-sealed` mean a tab holds another room key or none. */
  readonly onRejected?: (rejection: BroadcastRejection) => void;
  /** Largest plaintext opened. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  readonly logger?: NetLogger;
}

/**
 * A `BroadcastChannel` that seals every posted message with the room key and opens every received
 * one, in order. Another tab of the origin, a browser extension's page, or a tab of another room
 * key cannot read or inject messages. Plain JSON values and `Uint8Array`s are carried (see
 * `binary-json.ts`); like `BroadcastChannel`, `postMessage` copies its argument at once and throws
 * for values it cannot carry or once closed.
 */
export class EncryptedBroadcastChannel implements BroadcastChannelLike {
  onmessage: ((event: MessageEvent) => void) | null = null;
  private readonly inner: BroadcastChannelLike;
  private readonly aad: string;
  private readonly logger: NetLogger;
  private readonly maxMessageBytes: number;
  private readonly outgoing = new OrderedQueue<'out'>();
  private readonly incoming = new OrderedQueue<'in'>();
  private closed = false;

  constructor(
    readonly name: string,
    private readonly keys: SealingKeys,
    private readonly options: EncryptedBroadcastChannelOptions = {},
  ) {
    const Impl = options.BroadcastChannelImpl ?? defaultBroadcastChannel('EncryptedBroadcastChannel');
    this.logger = options.logger ?? consoleLogger;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_SEALED_BYTES;
    this.aad = `ednet-p2p/broadcast\u0000${name}`;
    this.inner = new Impl(name);
    this.inner.onmessage = (event) => this.receive(event.data);
  }

  postMessage(message: unknown): void {
    if (this.closed) throw new DOMException('the channel is closed', 'InvalidStateError');
    let plain: Uint8Array;
    try {
      plain = encodeBinaryJson(message);
    } catch (error) {
      throw new DOMException(`the message cannot be sealed: ${(error as Error).message}`, 'DataCloneError');
    }
    void this.outgoing.run('out', async () => {
      try {
        this.inner.postMessage(await sealBytes(this.keys, plain, this.aad));
      } catch (error) {
        this.logger.warn(`${this.name}: a sealed message could not be posted`, error);
      }
    });
  }

  /** Stops delivering; messages posted before still go out, then the underlying channel closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inner.onmessage = null;
    void this.outgoing.idle().then(() => this.inner.close());
  }

  /** Resolves once every message posted or received so far has been sealed or opened. */
  flushed(): Promise<void> {
    return Promise.all([this.outgoing.idle(), this.incoming.idle()]).then(() => undefined);
  }

  private receive(data: unknown): void {
    void this.incoming.run('in', async () => {
      const plain = await openBytes(this.keys, data, this.aad, this.maxMessageBytes);
      if (this.closed) return;
      if (isOpenFailure(plain)) return this.reject(plain.error, plain.reason);
      const decoded = decodeBinaryJson(plain);
      if ('error' in decoded) return this.reject(OpenFailureKind.malformed, decoded.error);
      try {
        this.onmessage?.(new MessageEvent('message', { data: decoded.value }));
      } catch (error) {
        this.logger.warn(`a ${this.name} message listener threw`, error);
      }
    });
  }

  private reject(kind: OpenFailureKind, reason: string): void {
    this.logger.debug?.(`${this.name}: message refused (${kind}): ${reason}`);
    try {
      this.options.onRejected?.({ channel: this.name, kind, reason });
    } catch (error) {
      this.logger.warn('an onRejected callback threw', error);
    }
  }
}

/**
 * A `BroadcastChannel`-compatible constructor sealing with `keys`, for the `BroadcastChannelImpl`
 * option of `LocalNetworkDiscovery` and `BroadcastChannelTransport`.
 */
export function encryptedBroadcastChannel(
  keys: SealingKeys,
  options: EncryptedBroadcastChannelOptions = {},
): BroadcastChannelConstructor {
  return class extends EncryptedBroadcastChannel {
    constructor(name: string) {
      super(name, keys, options);
    }
  };
}
