import type { ElectoralSystemModel } from '../models/electoral/index.js';
import type { NodeStatus } from '../node/node-events.js';
import type { EDNetP2PNode } from '../node/ednet-p2p-node.js';
import type { RoomFileResult } from '../store/index.js';

/** A room as its link names it: the id, and the secret that later protects it. */
export interface RoomRef {
  readonly roomId: string;
  readonly secret: string;
}

/**
 * One open room in this tab: the running node, the room's election model (loaded from IndexedDB
 * before any network activity), and the room-level actions the app offers. The UI talks to this
 * and to the node's public API only, never to transports or storage directly.
 */
export interface RoomSession {
  readonly room: RoomRef;
  readonly node: EDNetP2PNode;
  readonly model: ElectoralSystemModel;
  /** The node's status now (the status bar's data); `onStatus` hears every change. */
  readonly status: NodeStatus;
  /**
   * False while this device has never held the room: it did not create it, stores nothing of it,
   * and no peer has connected yet (so nobody has sent the room or shown the key to be the room's).
   * Becomes true, for good, when the first peer connects. Undefined counts as true.
   */
  readonly held?: boolean;
  onStatus(listener: (status: NodeStatus) => void): () => void;
  /** The name other peers see for this device (kept locally, sent to peers). */
  setDisplayName(name: string): void;
  /** Works offline on purpose: closes every peer connection and the signaling connection. */
  setWorkOffline(offline: boolean): void;
  /** The whole room as a JSON file (snapshot with its version vector), for backup or moving. */
  exportRoom(): Promise<Blob>;
  /** Merges a room file into this room; never overwrites newer data, all or nothing. */
  importRoom(file: Blob): Promise<RoomFileResult<ReadonlyArray<{ readonly modelId: string; readonly entities: number }>>>;
  /** Stops the node and closes storage; unsaved changes are saved first. */
  close(): Promise<void>;
}
