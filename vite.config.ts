import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { precompress } from './scripts/precompress-plugin.js';

// The app is one page (index.html). vite-plugin-pwa writes the web app manifest and a Workbox
// service worker that precaches the whole shell; src/app/pwa-updates.ts registers it with
// workbox-window and asks the user before a new version takes over (`registerType: 'prompt'`).
export default defineConfig({
  // Names this build (EDNET_BUILD_ID, default the build time), so every build is a new version to
  // the service worker and a page can tell which version it runs (`<html data-build>`).
  define: { __EDNET_BUILD__: JSON.stringify(process.env.EDNET_BUILD_ID ?? new Date().toISOString()) },
  build: {
    target: 'es2022',
    // Vite's modulepreload polyfill (about 0.7 KB on every first load) serves browsers without
    // `<link rel="modulepreload">`; every browser that runs this es2022 build has it, and one
    // without would still load each module when it is imported, only without the early fetch.
    modulePreload: { polyfill: false },
  },
  plugins: [
    VitePWA({
      registerType: 'prompt',
      // Registration is ours (src/app/main.ts): no inline script, so the CSP needs no exception.
      injectRegister: false,
      // The glob below precaches every icon; listing them again would only duplicate entries.
      includeManifestIcons: false,
      manifest: {
        id: '/',
        name: 'EDNet P2P',
        short_name: 'EDNet',
        description: 'Elections run by the devices that take part: peer to peer, offline first, no central server holding the data.',
        lang: 'en',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        theme_color: '#1a56c4',
        background_color: '#f4f5f7',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
        // The richer install dialog shows these (drawn by test/ui/phone-screenshots.js).
        screenshots: [
          { src: '/screenshots/room-phone.png', sizes: '390x844', type: 'image/png', form_factor: 'narrow', label: 'A room on a phone: its elections and who is connected' },
          { src: '/screenshots/room-desktop.png', sizes: '1280x800', type: 'image/png', form_factor: 'wide', label: 'An election being prepared, with live results' },
        ],
        shortcuts: [
          { name: 'New room', url: '/?shortcut=new-room#/', description: 'Create a room and invite people' },
          { name: 'Recent rooms', url: '/?shortcut=recent-rooms#/', description: 'The rooms this device opened' },
        ],
        // A room link opened from outside focuses the app's window (main.ts then opens the room).
        launch_handler: { client_mode: ['focus-existing', 'auto'] },
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // Only the install dialog shows these; offline use never needs them.
        globIgnores: ['screenshots/**'],
        navigateFallback: 'index.html',
        // The signaling socket and the health check belong to the server, never to the cache.
        navigateFallbackDenylist: [/^\/signaling/, /^\/healthz/],
        cleanupOutdatedCaches: true,
        // The first version controls the page at once, so it works offline without a reload.
        // Later versions wait for the user's consent (skipWaiting stays off).
        clientsClaim: true,
        skipWaiting: false,
      },
    }),
    // Last: brotli and gzip copies of every text file, the service worker included, which
    // signaling/static-files.js serves by the browser's Accept-Encoding.
    precompress(),
  ],
});
