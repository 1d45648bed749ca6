// The app as an installable, offline-first PWA, in the system Chromium against the real app server:
// the landing page, strict link parsing, the manifest and installability as Chromium judges them,
// a controlling service worker, a reload of an open room with the server stopped, and a new
// version that waits for the user's consent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { answerFirstRun, launchBrowser, launchProfile, openPage, screenshot, startServer, viewports, waitUntil } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** @type {import('playwright-core').Browser} */
let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** @param {import('playwright-core').Page} page */
const createRoom = async (page, name = '') => {
  if (name) await page.getByLabel(/Room name/).fill(name);
  await page.getByRole('button', { name: 'Create room' }).click();
  await waitUntil(page, () => window.ednet?.session != null);
  await answerFirstRun(page);
};

/**
 * Runs `use` with a page (and what went wrong in it) in a new browser context, next to a fresh
 * app server serving `build`; closes both afterwards, whatever happened. A test that stops the
 * server itself calls `stopServer`.
 * @param {import('playwright-core').BrowserContextOptions} contextOptions
 * @param {(opened: Awaited<ReturnType<typeof openPage>> & { server: Awaited<ReturnType<typeof startServer>>, stopServer: () => Promise<void> }) => Promise<void>} use
 * @param {string} [build]
 */
async function withAppPage(contextOptions, use, build) {
  const server = await startServer(0, build);
  let stopped = false;
  const stopServer = async () => {
    stopped = true;
    await server.close();
  };
  const context = await browser.newContext(contextOptions);
  try {
    await use({ ...(await openPage(context)), server, stopServer });
  } finally {
    await context.close();
    if (!stopped) await server.close();
  }
}

describe('the app shell', () => {
  it('creates a room whose id and key live only in the fragment, and lists it on the landing page', async () => {
    await withAppPage({ viewport: viewports.desktop }, async ({ page, problems, server }) => {
      /** @type {string[]} */
      const requested = [];
      page.on('request', (request) => requested.push(request.url()));
      await page.goto(server.url);
      await screenshot(page, 'landing-desktop');
      await createRoom(page, 'Board election');
      const { roomId, secret } = /** @type {{ roomId: string, secret: string }} */ (await page.evaluate(() => window.ednet.session?.room));
      assert.equal(new URL(page.url()).hash, `#/room/${roomId}?k=${secret}`);
      // No request, the signaling socket included, carries the room id or its key.
      assert.deepEqual(requested.filter((url) => url.includes(roomId) || url.includes(secret)), []);
      await page.getByRole('link', { name: /all rooms/ }).click();
      await waitUntil(page, () => window.ednet.session === null);
      await page.getByRole('button', { name: 'Open Board election' }).waitFor();
      await page.getByRole('button', { name: 'Open Board election' }).click();
      await waitUntil(page, (id) => window.ednet.session?.room.roomId === id, roomId);
      assert.deepEqual(problems, []);
    });
  });

  it('explains a malformed link and changes nothing', async () => {
    await withAppPage({ viewport: viewports.phone }, async ({ page, problems, server }) => {
      await page.goto(`${server.url}#/room/abc?k=not-a-key`);
      await page.getByRole('alert').filter({ hasText: 'This link cannot be opened' }).waitFor();
      assert.equal(await page.evaluate(() => window.ednet.session), null);
      await page.getByLabel('Room link').fill('https://example.org/#/room/abc');
      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByText('This is not a room link').waitFor();
      await screenshot(page, 'bad-link-phone');
      assert.equal(await page.evaluate(() => localStorage.getItem('ednet.recentRooms')), null);
      assert.deepEqual(problems, []);
    });
  });
  it('has no accessibility violations axe can find on any view, phone and desktop, light and dark', async () => {
    const server = await startServer();
    try {
      for (const [size, viewport] of /** @type {const} */ ([
        ['phone', viewports.phone],
        ['desktop', viewports.desktop],
      ])) {
        // axe is injected as an inline script, which the app's CSP rightly refuses: bypass it here only.
        const context = await browser.newContext({ viewport, bypassCSP: true });
        try {
          const { page } = await openPage(context);
          /** @type {string[]} */
          const found = [];
          const check = async (/** @type {string} */ view) => {
            for (const scheme of /** @type {const} */ (['light', 'dark'])) {
              await page.emulateMedia({ colorScheme: scheme });
              if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: join(root, 'node_modules', 'axe-core', 'axe.min.js') });
              const violations = await page.evaluate(async () => {
                const axe = /** @type {any} */ (window).axe;
                const result = await axe.run(document, { resultTypes: ['violations'] });
                return result.violations.map((/** @type {any} */ violation) => `${violation.id}: ${violation.nodes.map((/** @type {any} */ node) => node.target.join(' ')).join(', ')}`);
              });
              for (const violation of violations) found.push(`${size} ${view} (${scheme}): ${violation}`);
            }
            await page.emulateMedia({ colorScheme: 'light' });
          };
          await page.goto(server.url);
          await page.getByRole('button', { name: 'Create room' }).waitFor();
          await check('landing');
          await page.getByRole('button', { name: 'Create room' }).click();
          await page.getByRole('dialog', { name: 'What should others call you?' }).waitFor();
          await check('name question');
          await answerFirstRun(page);
          await check('elections, empty');
          await page.evaluate(() => {
            const model = window.ednet.model;
            if (!model) throw new Error('no room open');
            for (let n = 1; n <= 40; n++) model.createElection({ title: `Election ${n}` });
            const election = model.createElection({ title: 'President' }).oid;
            model.addCandidate(election, { name: 'Ann' });
            model.addCandidate(election, { name: 'Ben' });
          });
          await page.getByLabel('Find an election').fill('President');
    await page.getByRole('button', { name: /President/ }).click();
          await check('an election');
          await page.getByRole('button', { name: 'Remove Ben' }).click();
          await page.locator('ednet-undo-toast').getByText('Deleted candidate “Ben”').waitFor();
          await check('undo toast');
          await page.locator('ednet-status-bar').getByRole('button', { name: 'Details' }).click();
          await check('status details');
          await page.keyboard.press('Escape');
          for (const tab of ['Conflicts', 'Explorer', 'Audit', 'Room']) {
            await page.getByRole('tab', { name: tab }).click();
            await check(tab);
          }
          await page.getByRole('button', { name: 'Invite' }).click();
          await page.getByRole('dialog', { name: /^Invite people/ }).waitFor();
          await check('invite');
          assert.deepEqual(found, []);
        } finally {
          await context.close();
        }
      }
    } finally {
      await server.close();
    }
  });
  it('exports the room as a file and imports room files, explaining the ones it refuses', async () => {
    await withAppPage({ viewport: viewports.desktop, acceptDownloads: true }, async ({ page, problems, server }) => {
      await page.goto(server.url);
      await createRoom(page);
      await page.evaluate(() => window.ednet.model?.createElection({ title: 'Exported' }));
      await page.getByRole('tab', { name: 'Room' }).click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export room' }).click()]);
      const roomId = await page.evaluate(() => window.ednet.session?.room.roomId);
      assert.match(download.suggestedFilename(), new RegExp(`^ednet-room-${roomId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
      const exported = JSON.parse(readFileSync(/** @type {string} */ (await download.path()), 'utf8'));
      assert.equal(exported.roomId, roomId);

      const importFile = page.getByLabel('Import a room file');
      await importFile.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{not json') });
      await page.getByText('Import failed: The file is not a room export: it is not valid JSON.').waitFor();
      await importFile.setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...exported, roomId: 'another-room' })) });
      await page.getByText('Import failed: The file holds room "another-room"').waitFor();
      await importFile.setInputFiles({ name: 'same.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
      await page.getByText('Imported same.json: 1 entity.').waitFor();
      assert.equal(await page.evaluate(() => window.ednet.model?.elections().count), 1);
      await screenshot(page, 'share-import-desktop');
      assert.deepEqual(problems, []);
    });
  });
});

describe('the PWA', () => {
  it('is installable: manifest fields, real PNG icons, and a service worker controlling the page', async () => {
    const server = await startServer();
    const profile = await launchProfile({ viewport: viewports.desktop });
    const context = profile.context;
    try {
      const { page, problems } = await openPage(context);
      await page.goto(server.url);
      await waitUntil(page, () => navigator.serviceWorker.controller !== null);
      const manifest = await page.evaluate(async () => {
        const href = document.querySelector('link[rel="manifest"]')?.getAttribute('href');
        return href ? (await fetch(href)).json() : null;
      });
      assert.equal(manifest.name, 'EDNet P2P');
      assert.ok(manifest.short_name);
      assert.equal(manifest.display, 'standalone');
      assert.equal(manifest.start_url, '/');
      assert.equal(manifest.scope, '/');
      assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);
      assert.deepEqual(
        manifest.shortcuts.map((/** @type {any} */ shortcut) => [shortcut.name, shortcut.url]),
        [
          ['New room', '/?shortcut=new-room#/'],
          ['Recent rooms', '/?shortcut=recent-rooms#/'],
        ],
      );
      assert.deepEqual(manifest.launch_handler, { client_mode: ['focus-existing', 'auto'] });
      assert.deepEqual(manifest.screenshots.map((/** @type {any} */ shot) => shot.form_factor), ['narrow', 'wide']);
      for (const shot of manifest.screenshots) {
        const size = await page.evaluate(async (src) => {
          const bitmap = await createImageBitmap(await (await fetch(src)).blob());
          return `${bitmap.width}x${bitmap.height}`;
        }, shot.src);
        assert.equal(size, shot.sizes, shot.src);
      }
      for (const [size, purpose] of [
        [192, 'any'],
        [512, 'any'],
        [192, 'maskable'],
        [512, 'maskable'],
      ]) {
        const icon = manifest.icons.find((/** @type {any} */ entry) => entry.sizes === `${size}x${size}` && entry.purpose === purpose);
        assert.ok(icon, `a ${purpose} icon of ${size}px`);
        const loaded = await page.evaluate(async (src) => {
          const response = await fetch(src);
          const bitmap = await createImageBitmap(await response.blob());
          return { type: response.headers.get('content-type'), width: bitmap.width, height: bitmap.height };
        }, icon.src);
        assert.deepEqual(loaded, { type: 'image/png', width: size, height: size });
      }
      // Chromium's own verdict, as used for its install prompt.
      const cdp = await context.newCDPSession(page);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      assert.deepEqual(installabilityErrors, []);
      assert.deepEqual(problems, []);
    } finally {
      await profile.close();
      await server.close();
    }
  });

  it('reloads an open room with the server stopped: the app from the service worker, the data from IndexedDB', async () => {
    await withAppPage({ viewport: viewports.phone }, async ({ page, problems, server, stopServer }) => {
      await page.goto(server.url);
      await createRoom(page);
      await waitUntil(page, () => navigator.serviceWorker.controller !== null);
      await page.evaluate(() => window.ednet.model?.createElection({ title: 'Kept offline' }));
      await waitUntil(page, () => window.ednet.session?.status.unsavedChanges === 0);
      const roomUrl = page.url();
      await stopServer();
      await page.reload();
      await waitUntil(page, () => window.ednet?.model?.elections().count === 1);
      assert.equal(page.url(), roomUrl);
      assert.equal(await page.evaluate(() => window.ednet.model?.elections().first()?.getAttribute('title')), 'Kept offline');
      await page.getByRole('button', { name: /Kept offline/ }).waitFor();
      await screenshot(page, 'offline-reload-phone');
      assert.deepEqual(problems, []);
    });
  });
});

describe('a new version', () => {
  it('waits for the user, then takes over on "Reload" with the open room kept', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'ednet-e2e-update-'));
    const build = (/** @type {string} */ id) =>
      promisify(execFile)(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
        cwd: root,
        env: { ...process.env, EDNET_BUILD_ID: id },
      });
    await build('first');
    try {
      await withAppPage(
        { viewport: viewports.phone },
        async ({ page, problems, server }) => {
          await page.goto(server.url);
          await createRoom(page);
          await waitUntil(page, () => navigator.serviceWorker.controller !== null);
          assert.equal(await page.evaluate(() => document.documentElement.dataset.build), 'first');
          const roomUrl = page.url();

          await build('second');
          // The app checks for a new version whenever the tab becomes visible (and hourly).
          await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
          const banner = page.getByRole('status').filter({ hasText: 'A new version of the app is available' });
          await banner.waitFor({ timeout: 90_000 });
          // Until the user says so, the old version keeps running.
          assert.equal(await page.evaluate(() => document.documentElement.dataset.build), 'first');
          await screenshot(page, 'update-prompt-phone');
          await Promise.all([page.waitForEvent('load', { timeout: 90_000 }), banner.getByRole('button', { name: 'Reload' }).click()]);
          await waitUntil(page, () => document.documentElement.dataset.build === 'second' && window.ednet?.session != null);
          assert.equal(page.url(), roomUrl);
          assert.deepEqual(problems, []);
        },
        outDir,
      );
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
