// App benchmark, in the system Chromium against the real app server (the app built with
// `vite build` into a temporary folder first). `run({ quick })` returns one row per measurement:
// - the landing page's first load: the JavaScript and CSS a first visit fetches before the page's
//   `load` event (the app loads a room's code only after it, or when a room opens);
// - everything needed to show a room: the JavaScript and CSS a first visit straight to a room link
//   fetches until the room is rendered (a room this device does not hold: its arrival screen; the
//   WebRTC transport among them);
// - the time from navigation to a rendered room holding 10,000 entities in IndexedDB, reloaded
//   with the app served by its service worker, split by the app's performance marks.
// Sizes are of the bodies as fetched, gzipped at level 9; `wire` is what the app server sent (its
// brotli copies, see signaling/static-files.js).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { createAppServer } from '../signaling/serve.js';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTITIES = 10_000;

/**
 * Median and relative spread of timings (ms).
 * @param {number[]} timings
 */
function summarize(timings) {
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { value: Math.round(median), median: Math.round(median), spread: +((sorted[sorted.length - 1] - sorted[0]) / median).toFixed(3), runs: sorted.length };
}

/** @param {number[]} values */
const medianOf = (values) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);

/**
 * Records the scripts and style sheets a page fetches: URL, type, raw and gzipped size.
 * @param {import('playwright-core').Page} page
 */
function recordAssets(page) {
  /** @type {Promise<{ url: string, type: string, raw: number, gzip: number, wire: number }>[]} */
  const fetched = [];
  page.on('response', (response) => {
    const type = response.request().resourceType();
    if (type === 'script' || type === 'stylesheet')
      fetched.push(
        Promise.all([response.body(), response.allHeaders()]).then(([body, headers]) => ({
          url: response.url(),
          type,
          raw: body.length,
          gzip: gzipSync(body, { level: 9 }).length,
          wire: headers['content-encoding'] && headers['content-length'] ? Number(headers['content-length']) : body.length,
        })),
      );
  });
  return () => Promise.all(fetched);
}

/**
 * One row of fetched sizes.
 * @param {string} name
 * @param {{ url: string, type: string, raw: number, gzip: number, wire: number }[]} files
 */
function sizeRow(name, files) {
  const sum = (/** @type {'raw' | 'gzip' | 'wire'} */ key, /** @type {string} */ type) => files.filter((file) => file.type === type).reduce((total, file) => total + file[key], 0);
  return {
    name,
    unit: 'bytes',
    value: sum('gzip', 'script') + sum('gzip', 'stylesheet'),
    js: sum('gzip', 'script'),
    css: sum('gzip', 'stylesheet'),
    raw: sum('raw', 'script') + sum('raw', 'stylesheet'),
    wire: sum('wire', 'script') + sum('wire', 'stylesheet'),
    files: files.length,
  };
}

/**
 * Runs every measurement and returns one object per row.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const outDir = mkdtempSync(join(tmpdir(), 'ednet-app-bench-'));
  await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: root });
  const server = await createAppServer({ port: 0, root: outDir });
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  try {
    // A first visit to a room link, in a profile of its own: everything a room needs.
    const roomContext = await browser.newContext();
    const roomPage = await roomContext.newPage();
    const roomAssets = recordAssets(roomPage);
    const link = `${server.url}#/room/bench-${randomBytes(8).toString('hex')}?k=${randomBytes(32).toString('base64url')}`;
    await roomPage.goto(link);
    // Rendered: a room this profile does not hold shows its arrival screen, with its heading, until
    // another device of the room brings its state (the page's CSP allows no eval, so the check is
    // a function, not a string).
    await roomPage.waitForFunction(
      () =>
        document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-room-arrival')?.shadowRoot?.querySelector('#arrival-heading') != null,
      null,
      { timeout: 60_000 },
    );
    const roomFiles = await roomAssets();
    await roomContext.close();

    // A first visit to the landing page: what is fetched before the `load` event.
    const context = await browser.newContext();
    const page = await context.newPage();
    const landingAssets = recordAssets(page);
    await page.goto(server.url, { waitUntil: 'load' });
    await page.getByRole('button', { name: 'Create room' }).waitFor();
    const beforeLoad = new Set(
      await page.evaluate(() => {
        const loaded = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType('navigation')[0]).loadEventStart;
        return performance.getEntriesByType('resource').filter((entry) => entry.startTime < loaded).map((entry) => entry.name);
      }),
    );
    const landingFiles = (await landingAssets()).filter((file) => beforeLoad.has(file.url));

    // A room with 10,000 entities, saved, then reopened by reloading its link.
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.waitForFunction(() => window.ednet?.model != null);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.evaluate((count) => {
      const model = window.ednet.model;
      if (!model) throw new Error('no room open');
      const election = model.createElection({ title: 'Benchmark election' });
      for (let v = 1; v < count; v++) model.registerVoter({ name: `Voter ${v}`, voterNumber: `V-${v}`, district: `District ${v % 50}` });
      return election.oid;
    }, ENTITIES);
    await page.waitForFunction(() => window.ednet.session?.status.unsavedChanges === 0, null, { timeout: 120_000, polling: 100 });

    /** @type {{ rendered: number, opening: number, opened: number }[]} */
    const timings = [];
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      await page.reload();
      // Rendered: the model holds every entity and the election list shows the election.
      const rendered = await page.waitForFunction(
        (count) => {
          const model = window.ednet?.model;
          if (!model || model.elections().count + model.voters().count !== count) return false;
          const button = document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-elections-view')?.shadowRoot?.querySelector('button.election');
          if (!button) return false;
          const mark = (/** @type {string} */ name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
          return { rendered: performance.now(), opening: mark('ednet:room-opening'), opened: mark('ednet:room-opened') };
        },
        ENTITIES,
        { timeout: 120_000, polling: 'raf' },
      );
      timings.push(/** @type {{ rendered: number, opening: number, opened: number }} */ (await rendered.jsonValue()));
    }
    return [
      sizeRow('landing page first load: JS+CSS fetched before the load event (gzipped)', landingFiles),
      sizeRow('room first load: JS+CSS fetched by a first visit to a room link until its arrival screen shows (gzipped; the WebRTC transport included)', roomFiles),
      {
        name: 'navigation to a rendered room of 10,000 entities (reload, app from the service worker)',
        unit: 'ms',
        entities: ENTITIES,
        ...summarize(timings.map((timing) => timing.rendered)),
        // Where the time goes (medians, ms): until the app asks for the room (page and app code),
        // opening the session (IndexedDB read, loadState, node start), and the first render.
        untilOpening: medianOf(timings.map((timing) => timing.opening)),
        openingSession: medianOf(timings.map((timing) => timing.opened - timing.opening)),
        render: medianOf(timings.map((timing) => timing.rendered - timing.opened)),
      },
    ];
  } finally {
    await browser.close();
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'app', ...row }));
}
