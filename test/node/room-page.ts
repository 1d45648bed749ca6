// Runs one room session inside an iframe (its own JavaScript realm, like a real tab), for the
// integration tests. The parent page drives it through `window.roomPage`.
import { openRoomSession, type OpenRoomSessionOptions } from '../../src/app/open-room-session.js';
import type { RoomSession } from '../../src/app/room-session.js';
import { MemoryStorageAdapter } from '../../src/store/index.js';

/** What the parent page reads off the iframe's window. */
export interface RoomPage {
  readonly session: RoomSession;
}

/** Opens `roomId` with in-memory storage and exposes the session as `window.roomPage`. */
export async function startRoomPage(roomId: string, secret: string, options: OpenRoomSessionOptions): Promise<void> {
  try {
    const session = await openRoomSession({ roomId, secret }, { ...options, storage: new MemoryStorageAdapter(), displayName: null });
    (window as unknown as { roomPage: RoomPage }).roomPage = { session };
    parent.postMessage({ type: 'room-page-ready' }, '*');
  } catch (error) {
    parent.postMessage({ type: 'room-page-failed', message: String(error) }, '*');
  }
}
