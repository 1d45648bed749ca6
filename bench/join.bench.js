// Joining: ten tabs (each in its own browser context, so every link is WebRTC) open one room at
// once against our signaling server on 127.0.0.1, in the system Chromium. Measures the time until
// every tab reaches all ten devices and holds their state, and splits a tab's way there: opening
// the session (storage, keys, device identity), the signaling server's answer, WebRTC setup per
// connection (signaling round trips, ICE, DTLS) and, after a connection opens, authentication and
// the sync handshake until the peer counts as connected; then one edit until every other tab holds it.
import { chromium } from 'playwright-core';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignalingServer } from '../signaling/signaling-server.js';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';
import { serveBundledPage } from './lib/serve-bundled-page.js';

const here = dirname(fileURLToPath(import.meta.url));
const TABS = 10;
const TIMEOUT_MS = 180_000;
/** What each mark of `openRoomSession` ends. @type {Record<string, string>} */
const STEP_MEANING = {
  keys: 'room keys derived from the secret',
  device: 'device key loaded or made, in IndexedDB',
  identity: 'node id claimed in storage',
  loaded: 'model and certificates loaded, digest',
  registered: 'node built, model registered',
  ice: 'ICE server list fetched',
  started: 'node started: transports, discovery',
};

/** @param {number[]} values */
const median = (values) => (values.length ? Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]) : NaN);
/** @param {number[]} values */
const max = (values) => (values.length ? Math.round(Math.max(...values)) : NaN);

/**
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const page = await serveBundledPage({ entry: { entryPoints: [join(here, 'join', 'page.js')] }, title: 'join bench' });
  const server = await createSignalingServer({ port: 0 });
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  const runs = quick ? 1 : 3;
  const rows = [];
  try {
    /** @type {any[][]} */
    const results = [];
    /** Per run, from the edit to its arrival in each other tab. @type {number[][]} */
    const latencies = [];
    for (let run = 0; run < runs; run++) {
      const contexts = await Promise.all(Array.from({ length: TABS }, () => browser.newContext()));
      try {
        const tabs = await Promise.all(
          contexts.map(async (context) => {
            const tab = await context.newPage();
            tab.on('pageerror', (error) => console.error(`[join bench page] ${error.message}`));
            await tab.goto(page.url, { timeout: 120_000 });
            await tab.waitForFunction(() => 'joinBench' in window, undefined, { timeout: 120_000 });
            return tab;
          }),
        );
        const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
        const roomId = `join-bench-${process.pid}-${run}`;
        results.push(
          await Promise.all(
            tabs.map((tab) =>
              tab.evaluate(([roomId, secret, url, devices, timeout]) => /** @type {any} */ (window).joinBench.join(roomId, secret, url, devices, timeout), /** @type {const} */ ([roomId, secret, server.url, TABS, TIMEOUT_MS])),
            ),
          ),
        );
        // Once joined: one edit in the first tab, and when each other tab holds it.
        const [writer, ...readers] = tabs;
        const next = await writer.evaluate(() => {
          const session = /** @type {any} */ (window).session;
          return { node: session.node.nodeId, seq: session.model.version.get(session.node.nodeId) + 1 };
        });
        await Promise.all(readers.map((tab) => tab.evaluate(([node, seq]) => /** @type {any} */ (window).joinBench.watch(node, seq), /** @type {const} */ ([next.node, next.seq]))));
        const edit = await writer.evaluate(() => /** @type {any} */ (window).joinBench.edit());
        if (edit.seq !== next.seq) throw new Error('the writer made another edit meanwhile');
        const arrivals = await Promise.all(readers.map((tab) => tab.evaluate(() => /** @type {any} */ (window).joinBench.arrival())));
        latencies.push(arrivals.map((at) => at - edit.at));
      } finally {
        await Promise.all(contexts.map((context) => context.close()));
      }
    }
    const totals = results.map((tabs) => Math.max(...tabs.map((tab) => tab.doneAt)) - Math.min(...tabs.map((tab) => tab.startedAt)));
    const all = results.flat();
    rows.push(
      { name: `join: ${TABS} tabs at once until every tab reaches all ${TABS} and holds their state`, unit: 'ms', value: median(totals), runs, max: max(totals) },
      { name: 'join: a tab opening its session (keys, device identity, storage)', unit: 'ms', value: median(all.map((tab) => tab.openMs)), max: max(all.map((tab) => tab.openMs)) },
      // Opening taken apart by the session's marks: each step from the end of the one before.
      ...['keys', 'device', 'identity', 'loaded', 'registered', 'ice', 'started'].map((step) => ({
        name: `join: opening step "${step}" (${STEP_MEANING[step]})`,
        unit: 'ms',
        value: median(all.map((tab) => tab.steps[step] ?? NaN).filter((ms) => !Number.isNaN(ms))),
        max: max(all.map((tab) => tab.steps[step] ?? NaN).filter((ms) => !Number.isNaN(ms))),
      })),
      { name: 'join: until the signaling server answered', unit: 'ms', value: median(all.map((tab) => tab.signalingMs)), max: max(all.map((tab) => tab.signalingMs)) },
      { name: 'join: WebRTC setup per connection (signaling round trips, ICE, DTLS)', unit: 'ms', value: median(all.flatMap((tab) => tab.setupMs)), max: max(all.flatMap((tab) => tab.setupMs)) },
      { name: 'join: from an open connection to a connected peer (authentication, sync hello)', unit: 'ms', value: median(all.flatMap((tab) => tab.readyMs)), max: max(all.flatMap((tab) => tab.readyMs)) },
      {
        name: `join: one edit, once joined, until all ${TABS - 1} other tabs hold it`,
        unit: 'ms',
        value: median(latencies.map((run) => Math.max(...run))),
        'median tab': median(latencies.flat()),
        max: max(latencies.flat()),
      },
      { name: 'join: connections per tab once all are reached', unit: 'connections', value: median(all.map((tab) => tab.connected)), max: max(all.map((tab) => tab.connected)) },
      {
        name: 'join: failed connection attempts per tab',
        unit: 'attempts',
        value: median(all.map((tab) => Object.values(tab.failures).reduce((a, b) => a + b, 0))),
        reasons: Object.entries(all.reduce((sum, tab) => { for (const [reason, count] of Object.entries(tab.failures)) sum[reason] = (sum[reason] ?? 0) + count; return sum; }, {})).map(([reason, count]) => `${count}× ${reason}`).join('; '),
      },
    );
  } finally {
    await browser.close();
    await page.close();
    await server.close();
  }
  return rows;
}
