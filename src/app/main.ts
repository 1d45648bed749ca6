// The app's entry point and the shell's composition root: it adopts the design tokens, opens
// rooms with `openRoomSession` (loaded on first use, see room-code.ts), registers the service
// worker, and mounts `<ednet-app>`.
import { themeTokens } from '../ui/shared/theme.js';
import { type EDNetApp } from './ednet-app.js';
import { exposeOnWindow } from './ednet-console.js';
import { InstallPrompt } from './install-prompt.js';
import { PwaUpdates, appServiceWorker } from './pwa-updates.js';
import { loadRoomSession, preloadRoomCode } from './room-code.js';
import { currentPageSecurity, insecureContextAdvice } from './secure-context.js';

document.documentElement.dataset.build = __EDNET_BUILD__;
if (themeTokens.styleSheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet];
exposeOnWindow(null);
const advice = insecureContextAdvice(currentPageSecurity());
if (advice) showAdvice(advice);
else startApp();

/** Instead of the app: nothing in it works without `crypto.subtle`, so say what to do. */
function showAdvice(text: string): void {
  const notice = document.createElement('main');
  notice.className = 'insecure-context';
  notice.setAttribute('role', 'alert');
  const heading = document.createElement('h1');
  heading.textContent = 'EDNet P2P needs a secure page';
  const body = document.createElement('p');
  body.textContent = text;
  notice.append(heading, body);
  document.querySelector('#loading')?.remove();
  document.body.append(notice);
}

/** The app itself: rooms opened with `openRoomSession`, the service worker, installation. */
function startApp(): void {
  const app = document.createElement('ednet-app') as EDNetApp;
  app.openSession = async (room, options) => (await loadRoomSession()).openRoomSession(room, options);
  app.newRoom = async () => (await loadRoomSession()).createOwnedRoom();
  app.install = new InstallPrompt();
  // The service worker exists only in a build (`vite build`); the dev server serves sources.
  if (import.meta.env.PROD && 'serviceWorker' in navigator) {
    app.updates = new PwaUpdates(appServiceWorker(import.meta.env.BASE_URL), { beforeReload: () => app.closeRoom() });
    void app.updates.start();
  }
  // With `launch_handler: focus-existing`, a room link opened from outside focuses this window
  // instead of opening another; the link arrives here and is followed like any address change.
  const launchQueue = (window as { launchQueue?: { setConsumer(consumer: (params: { targetURL?: string }) => void): void } }).launchQueue;
  launchQueue?.setConsumer((params) => {
    if (!params.targetURL) return;
    const target = new URL(params.targetURL);
    if (target.origin === location.origin && target.hash && target.hash !== location.hash) location.hash = target.hash;
  });
  document.querySelector('#loading')?.remove();
  document.body.append(app);
  preloadRoomCode();
}
