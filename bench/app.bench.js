// App benchmark, in the system Chromium against the real app server: the JavaScript and CSS the
// browser fetches on a first visit (gzipped as a server would send them), and the time from
// navigation to a rendered room holding 10,000 entities in IndexedDB, reloaded with the app served
// by its service worker. `run({ quick })` returns one row per measurement; the app is built with
// `vite build` into a temporary folder first.
import { execFile } from 'node:child_process';
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
    const context = await browser.newContext();
    const page = await context.newPage();

    // First visit: every script and style sheet the page itself asks for, before any room opens.
    /** @type {Promise<{ type: string, raw: number, gzip: number }>[]} */
    const fetched = [];
    page.on('response', (response) => {
      const type = response.request().resourceType();
      if (type === 'script' || type === 'stylesheet')
        fetched.push(response.body().then((body) => ({ type, raw: body.length, gzip: gzipSync(body, { level: 9 }).length })));
    });
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Create room' }).waitFor();
    const files = await Promise.all(fetched);
    const total = (/** @type {string} */ type, /** @type {'raw' | 'gzip'} */ key) => files.filter((file) => file.type === type).reduce((sum, file) => sum + file[key], 0);

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

    const timings = [];
    for (let i = 0; i < (quick ? 1 : 5); i++) {
      await page.reload();
      // Rendered: the model holds every entity and the election list shows the election.
      const rendered = await page.waitForFunction(
        (count) => {
          const model = window.ednet?.model;
          if (!model || model.elections().count + model.voters().count !== count) return false;
          const button = document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-elections-view')?.shadowRoot?.querySelector('button.election');
          return button ? performance.now() : false;
        },
        ENTITIES,
        { timeout: 120_000, polling: 'raf' },
      );
      timings.push(/** @type {number} */ (await rendered.jsonValue()));
    }
    return [
      { name: 'first visit: JavaScript fetched (gzipped)', unit: 'bytes', value: total('script', 'gzip'), raw: total('script', 'raw'), files: files.filter((file) => file.type === 'script').length },
      { name: 'first visit: CSS fetched (gzipped)', unit: 'bytes', value: total('stylesheet', 'gzip'), raw: total('stylesheet', 'raw'), files: files.filter((file) => file.type === 'stylesheet').length },
      { name: 'navigation to a rendered room of 10,000 entities (reload, app from the service worker)', unit: 'ms', entities: ENTITIES, ...summarize(timings) },
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
