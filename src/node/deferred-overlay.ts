import type { NodeId } from '../crdt/dot.js';
import type { PeerConnection } from '../net/transport.js';
import type { RoomOverlay } from '../overlay/room-overlay.js';

/**
 * The node's overlay before and after its code is loaded. A room's first paint has nobody to
 * build a mesh with, so the overlay (HyParView, the member roster, the router: a sixth of the
 * engine) loads when the first peer is around: a discovery reports one (`learn`) or one connects
 * (`attach`). Until then it only remembers whether it should run and whom it was told of; once
 * loaded it starts if it should and learns them in order, as it does when the node comes back
 * online (`OnlineController`), and every later call goes straight to it.
 */
export class DeferredOverlay {
  #overlay: RoomOverlay | undefined;
  #loading: Promise<RoomOverlay> | undefined;
  #running = false;
  /** Members reported before the overlay was loaded, in order. */
  #learned: NodeId[] = [];

  /**
   * @param create loads the overlay's code and builds it
   * @param loaded told of the overlay right after it is built, before it starts or learns anyone
   * @param failed told why loading failed (the next peer tries again)
   */
  constructor(
    private readonly create: () => Promise<RoomOverlay>,
    private readonly loaded: (overlay: RoomOverlay) => void,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** The overlay once loaded. */
  get current(): RoomOverlay | undefined {
    return this.#overlay;
  }

  start(): void {
    this.#running = true;
    this.#overlay?.start();
  }

  stop(): void {
    this.#running = false;
    // Members learned stay known, as they stay in a stopped overlay's passive view and roster.
    this.#overlay?.stop();
  }

  learn(peer: NodeId): void {
    if (this.#overlay) {
      this.#overlay.learn(peer);
      return;
    }
    this.#learned.push(peer);
    this.load().catch(() => undefined);
  }

  stateChanged(): void {
    this.#overlay?.stateChanged();
  }

  /** `RoomOverlay.attach`, once the overlay is loaded (a connection holds its messages until then). */
  attach(connection: PeerConnection): PeerConnection | Promise<PeerConnection> {
    return this.#overlay ? this.#overlay.attach(connection) : this.load().then((overlay) => overlay.attach(connection));
  }

  /** Loads and builds the overlay (once; again after a failure). */
  load(): Promise<RoomOverlay> {
    this.#loading ??= this.create().then(
      (overlay) => {
        this.#overlay = overlay;
        this.loaded(overlay);
        if (this.#running) overlay.start();
        for (const peer of this.#learned.splice(0)) overlay.learn(peer);
        return overlay;
      },
      (error: unknown) => {
        this.#loading = undefined;
        this.failed(error);
        throw error;
      },
    );
    return this.#loading;
  }
}
