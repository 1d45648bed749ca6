// The landing page needs none of a room's code, so a first visit loads only the shell: the room
// page with its views, and openRoomSession with the node and everything under it, load when a
// room opens (and ahead of that when the browser is idle, see `preloadRoomCode`).
import { lazyModule } from './lazy-module.js';

/** Defines `<ednet-room-page>`, the views it shows and the room's dialogs (room-views.ts). */
export const loadRoomPage = lazyModule('The room page', () => import('./room-views.js'));

/** What `loadRoomPage` gives: the room directory's functions, for an open room's shared name. */
export type RoomViews = Awaited<ReturnType<typeof loadRoomPage>>;

/**
 * `<ednet-elections-view>`, the tab a room shows first once this device holds it. Not part of the
 * room page's chunk: a room link never opened here shows only the arrival screen.
 */
export const loadElectionsView = lazyModule('The elections view', () => import('../ui/ednet-elections-view.js'));

/** The invitation sheet (`<ednet-share-dialog>`): shown after creating a room, or on "Invite". */
export const loadShareDialog = lazyModule('The invitation sheet', () => import('./ednet-share-dialog.js'));

/** `openRoomSession` and everything a room runs on (node, sync, storage, network, security). */
export const loadRoomSession = lazyModule('The room engine', () => import('./open-room-session.js'));

/**
 * Loads the room's code after the page's `load` event, once the browser is idle, so it never
 * competes with what the landing page needs (the elections view loads with a room that shows it,
 * see ednet-app.ts and ednet-room-page.ts). Besides opening the first room sooner, it keeps a
 * tab whole: once loaded, a module never needs the network again, even after a new version of the
 * app has replaced the files this tab came with.
 */
export function preloadRoomCode(): void {
  const load = (): void => {
    loadRoomPage().catch(() => undefined);
    loadRoomSession().catch(() => undefined);
  };
  const whenIdle = (): void => {
    if ('requestIdleCallback' in window) requestIdleCallback(load, { timeout: 2_000 });
    else setTimeout(load, 500);
  };
  if (document.readyState === 'complete') whenIdle();
  else window.addEventListener('load', whenIdle, { once: true });
}
