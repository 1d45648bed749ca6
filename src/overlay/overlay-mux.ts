import type { PeerConnection } from '../net/transport.js';
import { isOverlayFrame } from './overlay-message.js';

/**
 * Splits one peer connection in two: overlay frames (first byte `OVERLAY_FRAME_BYTE`) go to
 * `onOverlayFrame`, and `syncSide` is the same connection without them, for the sync engine,
 * which never sees an overlay frame. Both sides send on the one connection, so their messages
 * stay in the order they were sent.
 */
export class OverlayMux {
  /** The connection as the sync engine sees it: every frame but the overlay's. */
  readonly syncSide: PeerConnection;
  private readonly unsubscribe: () => void;

  constructor(
    readonly connection: PeerConnection,
    onOverlayFrame: (frame: Uint8Array) => void,
  ) {
    const syncListeners = new Set<(message: Uint8Array) => void>();
    // Frames that arrive before the sync engine subscribes are kept in order for it.
    const early: Uint8Array[] = [];
    this.unsubscribe = connection.onMessage((frame) => {
      if (isOverlayFrame(frame)) onOverlayFrame(frame);
      else if (syncListeners.size === 0) early.push(frame);
      else for (const listener of [...syncListeners]) listener(frame);
    });
    this.syncSide = {
      peerId: connection.peerId,
      via: connection.via,
      get state() {
        return connection.state;
      },
      channelBinding: connection.channelBinding,
      send: (message) => connection.send(message),
      onMessage: (listener) => {
        syncListeners.add(listener);
        for (const frame of early.splice(0)) listener(frame);
        return () => syncListeners.delete(listener);
      },
      onClose: (listener) => connection.onClose(listener),
      close: (reason) => connection.close(reason),
    };
  }

  /** Stops listening (the connection closed). */
  dispose(): void {
    this.unsubscribe();
  }
}
