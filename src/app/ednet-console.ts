import type { ElectoralSystemModel } from '../models/electoral/index.js';
import type { EDNetP2PNode } from '../node/ednet-p2p-node.js';
import type { RoomSession } from './room-session.js';

/** What `window.ednet` holds for the developer console: the open room's session, node and model. */
export interface EDNetConsoleHandle {
  readonly session: RoomSession | null;
  readonly node: EDNetP2PNode | null;
  readonly model: ElectoralSystemModel | null;
}

declare global {
  interface Window {
    /** The open room, for the developer console (docs/app.md). All null while no room is open. */
    ednet: EDNetConsoleHandle;
  }
}

/** Points `window.ednet` at `session` (or at nothing). */
export function exposeOnWindow(session: RoomSession | null): void {
  window.ednet = Object.freeze({ session, node: session?.node ?? null, model: session?.model ?? null });
}
