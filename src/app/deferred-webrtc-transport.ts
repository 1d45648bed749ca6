import type { NodeId } from '../crdt/index.js';
import { consoleLogger } from '../net/logger.js';
import type { SignalingChannel } from '../net/peer-discovery.js';
import type { PeerConnection, Transport } from '../net/transport.js';
import type { UnreachableEvent, WebRtcTransport, WebRtcTransportOptions } from '../net/webrtc-transport.js';
import { lazyModule } from './lazy-module.js';

/** A listener added before the transport was loaded, and how to remove it from the transport after. */
interface Subscription<L> {
  readonly listener: L;
  stop?: () => void;
}

const loadWebRtc = lazyModule('The WebRTC transport', () => import('../net/webrtc-transport.js'));

/**
 * The room's `WebRtcTransport`, whose code (a tenth of the room engine) loads only once another
 * device is around: this one connects to it (`connect`) or it sends a signal. A room's first
 * paint needs none of it. Signals that arrive while it loads are held and handed to it in order
 * as soon as it listens; once loaded, every call goes straight to it.
 */
export class DeferredWebRtcTransport implements Transport {
  readonly kind = 'webrtc';
  readonly localId: NodeId;
  readonly #options: WebRtcTransportOptions;
  // Handed to the transport once loaded, each on its own: it refuses incoming connections while
  // nobody listens, and so does this one.
  readonly #connections = new Set<Subscription<(connection: PeerConnection) => void>>();
  readonly #unreachable = new Set<Subscription<(event: UnreachableEvent) => void>>();
  #transport: WebRtcTransport | undefined;
  #loading: Promise<WebRtcTransport> | undefined;
  /** Signals heard before the transport was loaded, in order. */
  #held: Array<[NodeId, unknown]> = [];
  #stopHearing: (() => void) | undefined;
  #closed = false;

  constructor(options: WebRtcTransportOptions) {
    this.localId = options.localId;
    this.#options = options;
    this.#stopHearing = options.signaling.onSignal((from, data) => {
      this.#held.push([from, data]);
      // Held signals stay: the next one tries loading again.
      this.#load().catch((error: unknown) => (options.logger ?? consoleLogger).warn('the WebRTC transport could not be loaded', error));
    });
  }

  async connect(peer: NodeId): Promise<PeerConnection> {
    return (await this.#load()).connect(peer);
  }

  onConnection(listener: (connection: PeerConnection) => void): () => void {
    return this.#transport ? this.#transport.onConnection(listener) : subscribe(this.#connections, listener);
  }

  /** `WebRtcTransport.onUnreachable`: why a device of the room could not be reached. */
  onUnreachable(listener: (event: UnreachableEvent) => void): () => void {
    return this.#transport ? this.#transport.onUnreachable(listener) : subscribe(this.#unreachable, listener);
  }

  close(): void {
    this.#closed = true;
    this.#stopHearing?.();
    this.#held = [];
    this.#transport?.close();
  }

  #load(): Promise<WebRtcTransport> {
    this.#loading ??= loadWebRtc().then(
      ({ WebRtcTransport }) => {
        if (this.#closed) throw new Error('transport closed');
        // Within one task: no signal can arrive between this listener's end and the transport's.
        this.#stopHearing?.();
        this.#stopHearing = undefined;
        const held = this.#held.splice(0);
        let replayed = false;
        const signaling: SignalingChannel = {
          sendSignal: (to, data) => this.#options.signaling.sendSignal(to, data),
          onSignal: (listener) => {
            const stop = this.#options.signaling.onSignal(listener);
            // Held signals come first, before any that arrives in a later task.
            if (!replayed) {
              replayed = true;
              queueMicrotask(() => {
                for (const [from, data] of held) listener(from, data);
              });
            }
            return stop;
          },
        };
        const transport = new WebRtcTransport({ ...this.#options, signaling });
        for (const subscription of this.#connections) subscription.stop = transport.onConnection(subscription.listener);
        for (const subscription of this.#unreachable) subscription.stop = transport.onUnreachable(subscription.listener);
        this.#transport = transport;
        return transport;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading;
  }
}

function subscribe<L>(subscriptions: Set<Subscription<L>>, listener: L): () => void {
  const subscription: Subscription<L> = { listener };
  subscriptions.add(subscription);
  return () => {
    subscriptions.delete(subscription);
    subscription.stop?.();
  };
}
