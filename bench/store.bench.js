// Storage benchmark: IndexedDB persistence in the system Chromium, on 10,000 and 100,000 voter
// entities of the electoral model. Measures the time to save 10,000 entity changes, the first save
// of a room that arrived whole (a fresh peer after bootstrap), and the time from opening a
// database to the model being ready. `run({ quick })` returns one measurement
// object per row; `node bench/store.bench.js [--quick]` prints them as JSON lines.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';
import { serveBundledPage } from './lib/serve-bundled-page.js';
import { comparison, repeatAsync, repeatInTurnsAsync } from './lib/stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTITIES = 10_000;
const LARGE = 100_000;

// Runs in the page. Every measurement uses a fresh database and deletes it afterwards.
const PAGE_ENTRY = `
import { deleteDB } from 'idb';
import { nanoid } from 'nanoid';
import * as Y from 'yjs';
import { IndexeddbPersistence, storeState } from 'y-indexeddb';
import { IndexedDbStorageAdapter, ModelPersistence, NodeIdentity } from './src/store/index.ts';
import { ElectoralSystemModel } from './src/models/electoral/index.ts';

let databases = 0;
const dbName = () => 'ednet-store-bench-' + ++databases;
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

// One tab of a room, as the node starts it: storage, identity, model, persistence, load.
async function openTab(name, durability) {
  const storage = new IndexedDbStorageAdapter({ roomId: 'bench', dbName: name, durability });
  const identity = await NodeIdentity.claim(storage);
  const model = new ElectoralSystemModel({ modelId: 'electoral', nodeId: identity.nodeId, firstSeq: identity.firstSeq, roles: 'open' });
  const persistence = new ModelPersistence(model, storage, { identity });
  await persistence.load();
  return { storage, identity, model, persistence };
}

function closeTab(tab) {
  tab.persistence.close();
  tab.identity.release();
  tab.storage.close();
}

// Closes a tab after a timed save, checks it stored all \`count\` voters, and deletes its database.
async function closeCheckAndDelete(tab, name, count) {
  const stored = (await tab.storage.load('electoral')).entities.length;
  closeTab(tab);
  await deleteDB(name);
  if (stored !== count) throw new Error('stored ' + stored + ' of ' + count + ' entities');
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
  await closeCheckAndDelete(tab, name, count);
  return ms;
}

// A room of \`count\` voters made elsewhere: its entity states and version, as a peer sends them.
function roomOf(count) {
  const model = new ElectoralSystemModel({ modelId: 'electoral', nodeId: 'writer', roles: 'open' });
  for (let v = 0; v < count; v++) registerVoter(model, v);
  return { states: model.getEntityStates(), version: model.version };
}

// A fresh tab receives a whole room of \`count\` voters (joined into its model at once, as after a
// bootstrap); times its first save, from the moment the model holds the room until it is durable.
async function firstSave(count) {
  const room = roomOf(count);
  const name = dbName();
  const tab = await openTab(name, 'relaxed');
  tab.model.loadState(room.states, room.version);
  const started = performance.now();
  await tab.persistence.whenSaved();
  const ms = performance.now() - started;
  await closeCheckAndDelete(tab, name, count);
  return ms;
}

// Fills a database with \`count\` voters, then times a new tab opening it until the model is ready.
async function open(count) {
  const name = dbName();
  const writer = await openTab(name, 'relaxed');
  const room = roomOf(count);
  writer.model.loadState(room.states, room.version);
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

// The same voters in Yjs: one Y.Map per entity in a top-level map, each voter its own transaction.
function registerYjsVoter(doc, v) {
  doc.transact(() => {
    const voter = new Y.Map();
    doc.getMap('entities').set(nanoid(), voter);
    voter.set('type', 'Voter');
    voter.set('name', 'Voter ' + v);
    voter.set('voterNumber', 'V-' + v);
    voter.set('email', 'voter' + v + '@example.org');
    voter.set('district', 'District ' + (v % 50));
    voter.set('address', v + ' Main Street, Springfield');
  });
}

// y-indexeddb writes each update in its own transaction and exposes no promise for it; a read-only
// transaction on the same store starts only after every read-write one created before it finished.
function yjsFlushed(persistence) {
  return new Promise((resolve, reject) => {
    const tx = persistence.db.transaction('updates', 'readonly');
    tx.oncomplete = () => resolve(undefined);
    tx.onerror = () => reject(tx.error);
  });
}

async function openYjs(name) {
  const doc = new Y.Doc();
  const persistence = new IndexeddbPersistence(name, doc);
  await persistence.whenSynced;
  return { doc, persistence };
}

// Reopens y-indexeddb database \`name\` to check it holds all \`count\` voters, then deletes it.
async function checkYjsStoredAndDelete(name, count) {
  const reader = await openYjs(name);
  const stored = reader.doc.getMap('entities').size;
  await reader.persistence.destroy();
  await deleteDB(name);
  if (stored !== count) throw new Error('stored ' + stored + ' of ' + count + ' Yjs entities');
}

// Runs \`write\` on a fresh y-indexeddb document and times until every update it made is committed.
async function yjsTimedSave(count, write) {
  const name = dbName();
  const writer = await openYjs(name);
  const started = performance.now();
  write(writer.doc);
  await yjsFlushed(writer.persistence);
  const ms = performance.now() - started;
  await writer.persistence.destroy();
  await checkYjsStoredAndDelete(name, count);
  return ms;
}

// Registers \`count\` voters in one burst and times until y-indexeddb has committed every update.
const yjsSave = (count) =>
  yjsTimedSave(count, (doc) => {
    for (let v = 0; v < count; v++) registerYjsVoter(doc, v);
  });

// The same burst saved the way ours is, in one IndexedDB transaction: every voter in one
// doc.transact, so y-indexeddb writes one update.
const yjsSaveOneTransaction = (count) =>
  yjsTimedSave(count, (doc) =>
    doc.transact(() => {
      for (let v = 0; v < count; v++) registerYjsVoter(doc, v);
    }),
  );

// A document holding \`count\` voters, each registered in its own transaction.
function yjsRoomOf(count) {
  const doc = new Y.Doc();
  for (let v = 0; v < count; v++) registerYjsVoter(doc, v);
  return doc;
}

// A document holding a whole room gets y-indexeddb attached (which stores the whole state as one
// update); times that first save until committed.
async function yjsFirstSave(count) {
  const doc = yjsRoomOf(count);
  const name = dbName();
  const started = performance.now();
  const persistence = new IndexeddbPersistence(name, doc);
  await persistence.whenSynced;
  await yjsFlushed(persistence);
  const ms = performance.now() - started;
  await persistence.destroy();
  await checkYjsStoredAndDelete(name, count);
  return ms;
}

// Fills a y-indexeddb database with \`count\` voters as one update (compacted, as y-indexeddb leaves
// it once a tab idles: its best case), then times a new document opening it until synced.
async function yjsOpen(count) {
  const name = dbName();
  const writer = new IndexeddbPersistence(name, yjsRoomOf(count));
  await writer.whenSynced;
  await storeState(writer, true);
  await yjsFlushed(writer);
  await writer.destroy();
  await turn();
  const started = performance.now();
  const reader = await openYjs(name);
  const ms = performance.now() - started;
  const loaded = reader.doc.getMap('entities').size;
  await reader.persistence.destroy();
  await deleteDB(name);
  if (loaded !== count) throw new Error('loaded ' + loaded + ' of ' + count + ' Yjs voters');
  return ms;
}

window.storeBench = { save, firstSave, open, yjsSave, yjsSaveOneTransaction, yjsFirstSave, yjsOpen };
`;


/** A single-figure row's value, median, spread and runs. @param {import('./lib/stats.js').Sample} sample */
const rounded = (sample) => ({ value: Math.round(sample.median), median: Math.round(sample.median), spread: sample.spread, runs: sample.runs });

/** Serves the bundled page on 127.0.0.1 (a free port). */
const servePage = () => serveBundledPage({ entry: { stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts' } }, title: 'store bench' });

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
    /** @type {(what: 'save' | 'firstSave' | 'open', ...args: unknown[]) => Promise<number>} */
    const measure = (what, ...args) =>
      tab.evaluate(([what, args]) => /** @type {any} */ (window).storeBench[what](...args), /** @type {const} */ ([what, args]));
    const repeat = (/** @type {() => Promise<number>} */ once) => repeatAsync(runs, once, { warmUp: !quick });
    /** @type {(what: 'yjsSave' | 'yjsSaveOneTransaction' | 'yjsFirstSave' | 'yjsOpen', count: number) => Promise<number>} */
    const measureYjs = (what, count) => tab.evaluate(([what, count]) => /** @type {any} */ (window).storeBench[what](count), /** @type {const} */ ([what, count]));
    const strictSaves = async () => [
      {
        workload: 6,
        name: 'IndexedDB: save 10,000 entity changes, one burst (strict durability)',
        unit: 'ms',
        entities: ENTITIES,
        ...rounded(await repeat(() => measure('save', ENTITIES, ENTITIES, 'strict'))),
      },
      {
        workload: 6,
        name: 'IndexedDB: save 10,000 entity changes, 100 per event-loop turn (strict durability)',
        unit: 'ms',
        entities: ENTITIES,
        ...rounded(await repeat(() => measure('save', ENTITIES, 100, 'strict'))),
      },
    ];
    const inTurns = (/** @type {() => Promise<number>} */ ours, /** @type {() => Promise<number>} */ theirs) =>
      repeatInTurnsAsync(runs, ours, theirs, { warmUp: !quick });
    const [oursSave, yjsSave] = await inTurns(() => measure('save', ENTITIES, ENTITIES, 'relaxed'), () => measureYjs('yjsSave', ENTITIES));
    const [oursSaveAgain, yjsSaveOnce] = await inTurns(() => measure('save', ENTITIES, ENTITIES, 'relaxed'), () => measureYjs('yjsSaveOneTransaction', ENTITIES));
    const [oursOpen, yjsOpen] = await inTurns(() => measure('open', ENTITIES), () => measureYjs('yjsOpen', ENTITIES));
    // 100,000 entities: fewer runs (each builds the room anew on both sides), no warm-up beyond the rows above.
    const large = (/** @type {() => Promise<number>} */ ours, /** @type {() => Promise<number>} */ theirs) => repeatInTurnsAsync(quick ? 1 : 3, ours, theirs, { warmUp: false });
    const [oursFirstSave, yjsFirstSave] = await large(() => measure('firstSave', LARGE), () => measureYjs('yjsFirstSave', LARGE));
    const [oursOpenLarge, yjsOpenLarge] = await large(() => measure('open', LARGE), () => measureYjs('yjsOpen', LARGE));
    return [
      comparison({
        workload: 6,
        name: 'IndexedDB: save 10,000 entity changes, one burst, the same save pattern: one transaction each (ours: saved once changes pause; Yjs: one doc.transact, one update) (store and model only, unsigned, no sync; ours relaxed durability, y-indexeddb browser default)',
        unit: 'ms',
        ours: oursSaveAgain,
        theirs: yjsSaveOnce,
        extra: { entities: ENTITIES },
      }),
      comparison({
        workload: 6,
        name: 'IndexedDB: save 10,000 entity changes, one burst, each side as it saves by default (not like for like: ours one transaction once changes pause, y-indexeddb one transaction per update, 10,000) (for information)',
        unit: 'ms',
        ours: oursSave,
        theirs: yjsSave,
        extra: { entities: ENTITIES },
      }),
      comparison({
        workload: 6,
        name: 'IndexedDB: open a database of 10,000 entities until the model is ready (y-indexeddb: compacted, until synced)',
        unit: 'ms',
        ours: oursOpen,
        theirs: yjsOpen,
        target: { of: 'ours', op: '<', limit: 300 },
        extra: { entities: ENTITIES },
      }),
      comparison({
        workload: 6,
        name: 'IndexedDB: first save of a room of 100,000 entities that arrived whole (a fresh peer after bootstrap), from the model holding it until durable (ours: ModelPersistence, relaxed durability; y-indexeddb: attached to the filled document, one update)',
        unit: 'ms',
        ours: oursFirstSave,
        theirs: yjsFirstSave,
        target: { of: 'ratio', op: '<=', limit: 1 },
        extra: { entities: LARGE },
      }),
      comparison({
        workload: 6,
        name: 'IndexedDB: open a database of 100,000 entities until the model is ready (y-indexeddb: compacted, until synced)',
        unit: 'ms',
        ours: oursOpenLarge,
        theirs: yjsOpenLarge,
        target: { of: 'ratio', op: '<=', limit: 1 },
        extra: { entities: LARGE },
      }),
      // Ours only, for the durability trade-off; left out of quick runs to keep them short.
      ...(quick ? [] : await strictSaves()),
    ];
  } finally {
    await browser.close();
    await page.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'store', ...row }));
}
