// WebRTC benchmark (workload 5), in the system Chromium: two pages, each in its own browser context
// (so no BroadcastChannel joins them), connected over real WebRTC on loopback with no ICE servers.
// Ours is a real room session (openRoomSession with our signaling server); theirs is Yjs with
// y-webrtc and y-webrtc's own signaling server, holding the same electoral workload (one Y.Map per
// entity). Each run starts two fresh pages: page A opens a room of n entities, a fresh page B joins
// and is timed until it holds all of A's state (bytes counted on the data channels, both directions,
// in both pages alike); then A writes one attribute every few milliseconds and B records when each
// write was applied. Both sides run on 500 entities; on 10,000 ours runs alone, since y-webrtc
// sends a whole state that large as one data-channel message, which Chromium refuses (recorded).
// `node bench/webrtc.bench.js [--quick]` prints the rows.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createSignalingServer } from '../signaling/signaling-server.js';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';
import { serveBundledPage } from './lib/serve-bundled-page.js';
import { comparison, round, summarize } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const ENTITIES = 10_000;
/** A room of the workload whose Yjs state fits in one Chromium data-channel message (256 KiB); 1,000 entities do not. */
const SMALL = 500;
/** Milliseconds between two latency writes: well above the latency, so writes do not queue. */
const WRITE_INTERVAL_MS = 20;
const TIMEOUT_MS = 60_000;


/** Serves the bundled page on 127.0.0.1; cross-origin isolated, so performance.now() resolves to 5 µs instead of 100 µs. */
const servePage = () =>
  serveBundledPage({
    entry: { entryPoints: [join(here, 'webrtc', 'page.js')] },
    title: 'WebRTC bench',
    headers: { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' },
  });

/** Starts y-webrtc's signaling server in a child process on 127.0.0.1; resolves with its URL. */
async function startYjsSignaling() {
  const child = spawn(process.execPath, [join(here, 'webrtc', 'y-webrtc-signaling.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the y-webrtc signaling server exited (${code})`)));
  });
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve(undefined));
        child.kill();
      }),
  };
}

/** @param {number[]} values @param {number} q */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Runs every measurement and returns one object per row.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const runs = quick ? 1 : 5;
  const warmUpWrites = quick ? 10 : 20;
  const writes = quick ? 50 : 200;
  const page = await servePage();
  const ours = await createSignalingServer({ port: 0 });
  const theirs = await startYjsSignaling();
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  let rooms = 0;

  /**
   * One run of one side with fresh pages A and B: A opens a room of `n` entities, B joins it, then
   * (if `latency`) A writes and B times each write. Resolves with `failed` if A could not send.
   * @param {'ours' | 'yjs'} side @param {number} n @param {boolean} latency
   */
  async function once(side, n, latency) {
    const roomId = `webrtc-bench-${process.pid}-${++rooms}`;
    const signalingUrl = side === 'ours' ? ours.url : theirs.url;
    const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
    try {
      const [a, b] = await Promise.all(
        contexts.map(async (context) => {
          const tab = await context.newPage();
          tab.on('pageerror', (error) => console.error(`[webrtc bench page] ${error.message}`));
          await tab.goto(page.url);
          await tab.waitForFunction(() => 'webrtcBench' in window);
          return tab;
        }),
      );
      /** @type {(tab: import('playwright-core').Page, method: string, ...args: unknown[]) => Promise<any>} */
      const call = (tab, method, ...args) => tab.evaluate(([method, args]) => /** @type {any} */ (window).webrtcBench[method](...args), /** @type {const} */ ([method, args]));
      const seeded = await call(a, 'seed', side, roomId, signalingUrl, n);
      // A send refused in A never arrives, and y-webrtc drops the error: watch for it meanwhile.
      let joining = true;
      const refused = (async () => {
        while (joining) {
          const errors = /** @type {string[]} */ (await call(a, 'sendErrors'));
          if (errors.length) return { failed: `page A could not send: ${errors[0]}` };
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const joined = await Promise.race([call(b, 'join', side, roomId, signalingUrl, seeded, TIMEOUT_MS).catch(async (/** @type {Error} */ error) => {
          throw new Error(`${side}, ${n} entities: ${error.message}; page A: ${JSON.stringify(await call(a, 'state').catch(() => null))}`);
        }), refused.then((failure) => failure ?? new Promise(() => {}))]).finally(() => {
        joining = false;
      });
      if ('failed' in joined) return { failed: /** @type {string} */ (joined.failed) };
      if (joined.via.length !== 1 || joined.via[0] !== 'webrtc') throw new Error(`${side}: page B is connected via ${joined.via.join(', ') || 'nothing'}, not one WebRTC peer`);
      let median = NaN;
      let p99 = NaN;
      let sender = NaN;
      let receiver = NaN;
      let stored = NaN;
      if (latency) {
        await call(b, 'listen', warmUpWrites + writes);
        /** @type {number[]} */
        const senderMs = (await call(a, 'write', warmUpWrites + writes, WRITE_INTERVAL_MS)).slice(warmUpWrites);
        /** @type {{ latencies: number[], receiverMs: number[] }} */
        const applied = await call(b, 'latencies', TIMEOUT_MS);
        const latencies = applied.latencies.slice(warmUpWrites);
        sender = quantile(senderMs, 0.5);
        if (side === 'ours') {
          /** @type {number[]} */
          const storing = (await call(a, 'storedMs')).slice(warmUpWrites);
          stored = storing.length ? quantile(storing, 0.5) : NaN;
        }
        receiver = quantile(applied.receiverMs.slice(warmUpWrites), 0.5);
        if (latencies.some((ms) => !(ms >= 0))) throw new Error(`${side}: a negative latency: the two pages' clocks disagree`);
        median = quantile(latencies, 0.5);
        p99 = quantile(latencies, 0.99);
      }
      await Promise.all([call(a, 'close'), call(b, 'close')]);
      return { ...joined, median, p99, sender, receiver, stored, failed: undefined };
    } finally {
      await Promise.all(contexts.map((context) => context.close()));
    }
  }

  /** @typedef {Awaited<ReturnType<typeof once>>} Result */
  /** @param {Result[]} results @param {'ms' | 'connectMs' | 'lastByteMs' | 'bytes' | 'bytesReceived' | 'median' | 'p99' | 'sender' | 'receiver' | 'stored'} key */
  const sample = (results, key) => summarize(results.map((result) => /** @type {number} */ (result[key])));
  /** @param {Result[]} results */
  const succeeded = (results) => {
    const failure = results.find((result) => result.failed);
    if (failure) throw new Error(`ours failed: ${failure.failed}`);
    return results;
  };
  /** A row of ours alone. @param {string} name @param {string} unit @param {import('./lib/stats.js').Sample} sample @param {Record<string, unknown>} [extra] */
  const oursOnly = (name, unit, { median, spread, runs }, extra = {}) => ({ workload: 5, name, unit, value: round(median), ours: round(median), median: round(median), spread, runs, ...extra });

  try {
    // Both sides at a size y-webrtc can carry (its whole-state update fits in one data-channel
    // message), in turns so a change in the machine's load weighs on both alike.
    if (!quick) {
      await once('ours', SMALL, true);
      await once('yjs', SMALL, true);
    }
    /** @type {Result[]} */
    const oursSmall = [];
    /** @type {Result[]} */
    const yjsSmall = [];
    for (let i = 0; i < runs; i++) {
      oursSmall.push(await once('ours', SMALL, true));
      yjsSmall.push(await once('yjs', SMALL, true));
    }
    succeeded(oursSmall);
    const yjsFailure = yjsSmall.find((result) => result.failed);
    if (yjsFailure) throw new Error(`y-webrtc failed with ${SMALL} entities: ${yjsFailure.failed}`);

    // The full room: ours every run; y-webrtc once, to record how it fares.
    if (!quick) await once('ours', ENTITIES, true);
    /** @type {Result[]} */
    const oursLarge = [];
    for (let i = 0; i < runs; i++) oursLarge.push(await once('ours', ENTITIES, true));
    succeeded(oursLarge);
    const yjsLarge = await once('yjs', ENTITIES, false);

    const small = SMALL.toLocaleString('en-US');
    const large = ENTITIES.toLocaleString('en-US');
    const setting = `ours in the shipped configuration: signed changes, the room's IndexedDB on both pages (a write leaves page A only once stored: durable before visible), sync engine as the app runs it; two pages in separate browser contexts over WebRTC; ${writes} writes ${WRITE_INTERVAL_MS} ms apart per run after ${warmUpWrites} warm-up writes`;
    const yjsLargeOutcome = yjsLarge.failed
      ? `never completes: ${yjsLarge.failed} (y-webrtc sends the whole state as one data-channel message and ignores the error)`
      : `${Math.round(yjsLarge.ms)} ms, ${yjsLarge.bytes} bytes (one run)`;
    /** Where a write's time goes: page A until the data channel, then page B from the message. @param {Result[]} results */
    const parts = (results) => `${round(sample(results, 'sender').median)} / ${round(sample(results, 'receiver').median)}`;
    return [
      comparison({
        workload: 5,
        name: `latency, median: a write in page A until applied in page B, ${small}-entity room (${setting})`,
        unit: 'ms',
        ours: sample(oursSmall, 'median'),
        theirs: sample(yjsSmall, 'median'),
        target: { of: 'ratio', op: '<=', limit: 1 },
        extra: { 'in page A / in page B ms, ours': parts(oursSmall), 'Yjs': parts(yjsSmall), 'ours, page A: write until stored ms': round(sample(oursSmall, 'stored').median) },
      }),
      comparison({
        workload: 5,
        name: `latency, 99th percentile, ${small}-entity room (same runs)`,
        unit: 'ms',
        ours: sample(oursSmall, 'p99'),
        theirs: sample(yjsSmall, 'p99'),
        target: { of: 'ours', op: '<', limit: 25 },
      }),
      oursOnly(`latency, median, ${large}-entity room (ours only, shipped configuration as above: y-webrtc cannot bootstrap this room, see below)`, 'ms', sample(oursLarge, 'median'), {
        target: { of: 'ours', op: '<', limit: 5 },
        'in page A / in page B ms': parts(oursLarge),
        'page A: write until stored ms': round(sample(oursLarge, 'stored').median),
      }),
      oursOnly(`latency, 99th percentile, ${large}-entity room (same runs)`, 'ms', sample(oursLarge, 'p99'), { target: { of: 'ours', op: '<', limit: 25 } }),
      comparison({
        workload: 5,
        name: `fresh peer bootstrap: page B joins a ${small}-entity room until it holds all of page A's state (signaling, connection, transfer, apply; ours: shipped configuration, signed, storage and sync)`,
        unit: 'ms',
        ours: sample(oursSmall, 'ms'),
        theirs: sample(yjsSmall, 'ms'),
        extra: { 'first byte ms ours / Yjs': `${round(sample(oursSmall, 'connectMs').median)} / ${round(sample(yjsSmall, 'connectMs').median)}` },
      }),
      comparison({
        workload: 5,
        name: `fresh peer bootstrap bytes on the data channels, both directions, ${small} entities (not the same compression: ours signed, frames of 64 KiB or more deflated as sent; Yjs uncompressed as y-webrtc sends; see workload 3 for both gzipped)`,
        unit: 'bytes',
        ours: sample(oursSmall, 'bytes'),
        theirs: sample(yjsSmall, 'bytes'),
        extra: { 'received by B ours / Yjs': `${sample(oursSmall, 'bytesReceived').median} / ${sample(yjsSmall, 'bytesReceived').median}` },
      }),
      oursOnly(`fresh peer bootstrap: page B joins a ${large}-entity room until it holds all of page A's state (shipped configuration: signed, storage and sync)`, 'ms', sample(oursLarge, 'ms'), {
        target: { of: 'ours', op: '<', limit: 1000 },
        'first / last byte received ms': `${round(sample(oursLarge, 'connectMs').median)} / ${round(sample(oursLarge, 'lastByteMs').median)}`,
        'y-webrtc': yjsLargeOutcome,
      }),
      oursOnly(`fresh peer bootstrap bytes on the data channels, both directions, ${large} entities (signed, large frames deflated as sent)`, 'bytes', sample(oursLarge, 'bytes'), {
        'received by B': sample(oursLarge, 'bytesReceived').median,
      }),
    ];
  } finally {
    await browser.close();
    await Promise.all([page.close(), ours.close(), theirs.close()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'webrtc', ...row }));
}
