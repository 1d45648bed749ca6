// The app's entry point and the shell's composition root: it adopts the design tokens, opens
// rooms with `openRoomSession` (loaded on first use, see room-code.ts), registers the service
// worker, and mounts `<ednet-app>`.
import { themeTokens } from '../ui/shared/theme.js';
import { type EDNetApp } from './ednet-app.js';
import { exposeOnWindow } from './ednet-console.js';
import { InstallPrompt } from './install-prompt.js';
import { PwaUpdates, appServiceWorker } from './pwa-updates.js';
import { loadRoomSession, preloadRoomCode } from './room-code.js';

document.documentElement.dataset.build = __EDNET_BUILD__;
if (themeTokens.styleSheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet];
exposeOnWindow(null);
const app = document.createElement('ednet-app') as EDNetApp;
app.openSession = async (room) => (await loadRoomSession()).openRoomSession(room);
app.newRoom = async () => (await loadRoomSession()).createOwnedRoom();
app.install = new InstallPrompt();
// The service worker exists only in a build (`vite build`); the dev server serves sources.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  app.updates = new PwaUpdates(appServiceWorker(import.meta.env.BASE_URL), { beforeReload: () => app.closeRoom() });
  void app.updates.start();
}
document.querySelector('#loading')?.remove();
document.body.append(app);
preloadRoomCode();
