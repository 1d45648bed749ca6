// Storage benchmark: IndexedDB persistence in the system Chromium, on 10,000 voter entities of the
// electoral model. Measures the time to save 10,000 entity changes and the time from opening a
// database of 10,000 entities to the model being ready. `run({ quick })` returns one measurement
// object per row; `node bench/store.bench.js [--quick]` prints them as JSON lines.
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTITIES = 10_000;

// Runs in the page. Every measurement uses a fresh database and deletes it afterwards.
const PAGE_ENTRY = `
import { deleteDB } from 'idb';
import { IndexedDbStorageAdapter, ModelPersistence, NodeIdentity } from './src/store/index.ts';
import { ElectoralSystemModel } from './src/models/electoral/index.ts';

let databases = 0;
const dbName = () => 'ednet-store-bench-' + ++databases;
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

// One tab of a room, as the node starts it: storage, identity, model, persistence, load.
async function openTab(name, durability) {
  const storage = new IndexedDbStorageAdapter({ roomId: 'bench', dbName: name, durability });
  const identity = await NodeIdentity.claim(storage);
  const model = new ElectoralSystemModel({ modelId: 'electoral', nodeId: identity.nodeId, firstSeq: identity.firstSeq });
  const persistence = new ModelPersistence(model, storage, { identity });
  await persistence.load();
  return { storage, identity, model, persistence };
}

function closeTab(tab) {
  tab.persistence.close();
  tab.identity.release();
  tab.storage.close();
}

function registerVoter(model, v) {
  return model.registerVoter({
    name: 'Voter ' + v,
    voterNumber: 'V-' + v,
    email: 'voter' + v + '@example.org',
    district: 'District ' + (v % 50),
    address: v + ' Main Street, Springfield',
  });
}

// Registers \`count\` voters, \`perTurn\` per event-loop turn, and times until all are durably saved.
async function save(count, perTurn, durability) {
  const name = dbName();
  const tab = await openTab(name, durability);
  const started = performance.now();
  for (let v = 0; v < count; v++) {
    registerVoter(tab.model, v);
    if ((v + 1) % perTurn === 0) await turn();
  }
  await tab.persistence.whenSaved();
  const ms = performance.now() - started;
  const stored = (await tab.storage.load('electoral')).entities.length;
  closeTab(tab);
  await deleteDB(name);
  if (stored !== count) throw new Error('stored ' + stored + ' of ' + count + ' entities');
  return ms;
}

// Fills a database with \`count\` voters, then times a new tab opening it until the model is ready.
async function open(count) {
  const name = dbName();
  const writer = await openTab(name, 'relaxed');
  for (let v = 0; v < count; v++) registerVoter(writer.model, v);
  await writer.persistence.whenSaved();
  closeTab(writer);
  await turn();
  const started = performance.now();
  const reader = await openTab(name, 'strict');
  const ms = performance.now() - started;
  const loaded = reader.model.voters().count;
  closeTab(reader);
  await deleteDB(name);
  if (loaded !== count) throw new Error('loaded ' + loaded + ' of ' + count + ' voters');
  return ms;
}

window.storeBench = { save, open };
`;

const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>store bench</title><script type="module" src="/bench.js"></script>';

/**
 * Median and relative spread of timings (ms).
 * @param {number[]} timings
 */
function summarize(timings) {
  const sorted = [...timings].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { value: Math.round(median), median: Math.round(median), spread: +((sorted[sorted.length - 1] - sorted[0]) / median).toFixed(3), runs: sorted.length };
}

/** Serves the bundled page on 127.0.0.1 (a free port) and resolves with its URL and a closer. */
async function servePage() {
  const bundle = await build({
    stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0].text;
  const server = createServer((request, response) => {
    const [type, body] = request.url === '/bench.js' ? ['text/javascript', script] : request.url === '/' ? ['text/html', PAGE_HTML] : [null, 'not found'];
    response.writeHead(type ? 200 : 404, { 'content-type': type ?? 'text/plain' });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${address.port}/`, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}

/**
 * Runs every measurement and returns one object per row.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const runs = quick ? 1 : 5;
  const page = await servePage();
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  try {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.waitForFunction(() => 'storeBench' in window);
    /** @type {(what: 'save' | 'open', ...args: unknown[]) => Promise<number>} */
    const measure = (what, ...args) =>
      tab.evaluate(([what, args]) => /** @type {any} */ (window).storeBench[what](...args), /** @type {const} */ ([what, args]));
    const repeat = async (/** @type {() => Promise<number>} */ once) => {
      const timings = [];
      for (let i = 0; i < runs; i++) timings.push(await once());
      return summarize(timings);
    };
    return [
      {
        name: 'save 10,000 entity changes, one burst (strict durability)',
        unit: 'ms',
        entities: ENTITIES,
        ...(await repeat(() => measure('save', ENTITIES, ENTITIES, 'strict'))),
      },
      {
        name: 'save 10,000 entity changes, 100 per event-loop turn (strict durability)',
        unit: 'ms',
        entities: ENTITIES,
        ...(await repeat(() => measure('save', ENTITIES, 100, 'strict'))),
      },
      {
        name: 'save 10,000 entity changes, one burst (relaxed durability)',
        unit: 'ms',
        entities: ENTITIES,
        ...(await repeat(() => measure('save', ENTITIES, ENTITIES, 'relaxed'))),
      },
      {
        name: 'open a database of 10,000 entities until the model is ready',
        unit: 'ms',
        entities: ENTITIES,
        ...(await repeat(() => measure('open', ENTITIES))),
      },
    ];
  } finally {
    await browser.close();
    await page.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'store', ...row }));
}
