// A 10,000-entity room arriving at a device, in the shipped configuration (signed changes, the
// room's IndexedDB and the sync engine, as `openRoomSession` sets them up) over real WebRTC in the
// system Chromium, with the page of bench/webrtc/page.js. Page A opens the room of the electoral
// workload; a fresh page B (its own browser context) joins it and is followed until it holds
// everything, stored it and shows page A in sync (equal state digests), while a
// PerformanceObserver counts page B's long tasks (over 50 ms of main thread at once). Then page
// B closes its session and opens it again from IndexedDB, as a restarted device does: how long
// until its model is ready, and until it is in sync with page A again. Long tasks are counted by
// wall clock (the observer) and by the CPU time of page B's main thread (a Chromium trace): on a
// shared machine the first also counts the time the page waited for a core.
// `node bench/arrival.bench.js [--quick]` prints the rows.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createSignalingServer } from '../signaling/signaling-server.js';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';
import { traceMainThreadTasks } from './lib/main-thread-tasks.js';
import { serveBundledPage } from './lib/serve-bundled-page.js';
import { round, summarize } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const ENTITIES = 10_000;
const TIMEOUT_MS = 120_000;
const SETTING = 'signed, IndexedDB and sync engine as the app runs them; two pages in separate browser contexts over WebRTC';

/**
 * One run with fresh pages: A seeds, B joins (long tasks counted), then B restarts.
 * @param {import('playwright-core').Browser} browser @param {string} url @param {string} signalingUrl @param {string} roomId
 */
async function once(browser, url, signalingUrl, roomId) {
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  try {
    const [a, b] = await Promise.all(
      contexts.map(async (context) => {
        const tab = await context.newPage();
        tab.on('pageerror', (error) => console.error(`[arrival bench page] ${error.message}`));
        await tab.goto(url);
        await tab.waitForFunction(() => 'webrtcBench' in window);
        return tab;
      }),
    );
    /** @type {(tab: import('playwright-core').Page, method: string, ...args: unknown[]) => Promise<any>} */
    const call = (tab, method, ...args) => tab.evaluate(([method, args]) => /** @type {any} */ (window).webrtcBench[method](...args), /** @type {const} */ ([method, args]));
    const seeded = await call(a, 'seed', 'ours', roomId, signalingUrl, ENTITIES);
    const { result: joined, tasks } = await traceMainThreadTasks(browser, b, () => call(b, 'join', 'ours', roomId, signalingUrl, seeded, TIMEOUT_MS));
    if (joined.via.length !== 1 || joined.via[0] !== 'webrtc') throw new Error(`page B is connected via ${joined.via.join(', ') || 'nothing'}, not one WebRTC peer`);
    const restarted = await call(b, 'restart', roomId, signalingUrl, seeded, TIMEOUT_MS);
    if (restarted.entities < ENTITIES) throw new Error(`page B reopened with ${restarted.entities} entities, not ${ENTITIES}`);
    await Promise.all([call(a, 'close'), call(b, 'close')]);
    return { ...joined, ...restarted, cpuLongTasks: tasks.overLimitCpu, longestCpuMs: tasks.longestCpuMs };
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
}

/**
 * Runs every measurement and returns one object per row.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const runs = quick ? 1 : 3;
  const page = await serveBundledPage({
    entry: { entryPoints: [join(here, 'webrtc', 'page.js')] },
    title: 'arrival bench',
    headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
  });
  const signaling = await createSignalingServer({ port: 0 });
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  try {
    /** @type {Array<Awaited<ReturnType<typeof once>>>} */
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await once(browser, page.url, signaling.url, `arrival-bench-${process.pid}-${i}`));
    /** @param {'longTasks' | 'longestTaskMs' | 'longTasksMs' | 'cpuLongTasks' | 'longestCpuMs' | 'ms' | 'settledMs' | 'readyMs' | 'inSyncMs'} key */
    const sample = (key) => summarize(results.map((result) => /** @type {number} */ (result[key])));
    /** @param {string} name @param {string} unit @param {import('./lib/stats.js').Sample} s @param {Record<string, unknown>} [extra] */
    const row = (name, unit, { median, spread, runs }, extra = {}) => ({ name, unit, value: round(median), ours: round(median), spread, runs, ...extra });
    const large = ENTITIES.toLocaleString('en-US');
    return [
      row(`long tasks in page B while it joins a ${large}-entity room, from opening until it holds, stored and is in sync with all of it (${SETTING})`, 'tasks', sample('longTasks'), {
        target: { of: 'ours', op: '<', limit: 1 },
        'main thread blocked in long tasks ms': round(sample('longTasksMs').median),
        'joined / settled ms': `${round(sample('ms').median)} / ${round(sample('settledMs').median)}`,
      }),
      row(`longest task in page B while it joins a ${large}-entity room (same runs, wall clock)`, 'ms', sample('longestTaskMs'), { target: { of: 'ours', op: '<', limit: 50 } }),
      row(`tasks of page B's main thread taking over 50 ms of CPU while it joins a ${large}-entity room (same runs; from a Chromium trace, so time the process waited for a core on a loaded machine does not count)`, 'tasks', sample('cpuLongTasks'), {
        target: { of: 'ours', op: '<', limit: 1 },
      }),
      row(`longest task of page B's main thread by CPU time while it joins a ${large}-entity room (same runs)`, 'ms CPU', sample('longestCpuMs'), { target: { of: 'ours', op: '<', limit: 50 } }),
      row(`restarted device holding ${large} entities: reopening the room from IndexedDB until the model is ready (${SETTING})`, 'ms', sample('readyMs')),
      row(`restarted device holding ${large} entities: reopening until in sync with its peer again (connected, state digests equal, nothing unsaved)`, 'ms', sample('inSyncMs')),
    ];
  } finally {
    await browser.close();
    await Promise.all([page.close(), signaling.close()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'arrival', ...row }));
}
