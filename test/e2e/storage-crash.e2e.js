// A browser killed in the middle of a large save loses nothing committed: the IndexedDB adapter
// (chunk layout, docs/storage.md) saves one room, then starts a save that rewrites every chunk and
// adds 20,000 entities, and the browser PROCESS is killed (SIGKILL) while that transaction is
// under way. Restarted on the same profile, storage holds exactly the first save: not a chunk of
// the second, nothing damaged. A save that resolved survives a kill right after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startDevice } from './chromium-device.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Runs in the page: the adapter and the storage tests' election model, nothing else of the app.
const PAGE_ENTRY = `
import { IndexedDbStorageAdapter } from './src/store/index.ts';
import { election } from './test/store/election-model.ts';

const DB = 'ednet-storage-crash';
let tasks = 0;
let done = false;
const adapter = () => new IndexedDbStorageAdapter({ roomId: 'crash', dbName: DB, entitiesPerTask: 50, onSaveTask: () => { tasks++; } });

// What storage holds, canonical: commit, version, every entity, what could not be read.
async function stored() {
  const storage = adapter();
  const model = await storage.load('election');
  storage.close();
  return JSON.stringify({ commit: model.commit, version: model.version.toJSON(), entities: model.entities, damaged: model.damaged ?? [] });
}

window.storageCrash = {
  stored,
  tasks: () => tasks,
  done: () => done,
  async fill(count) {
    const model = election('alice');
    for (let i = 0; i < count; i++) model.create('Candidate', { name: 'c' + i, votes: i });
    const storage = adapter();
    await storage.merge('election', model.getEntityStates(), model.version);
    storage.close();
    return stored();
  },
  // Every stored entity changed and \`count\` new ones, in one save; not awaited.
  async startBigSave(count) {
    const storage = adapter();
    const current = await storage.load('election');
    const model = election('bob');
    model.loadState(current.entities, current.version);
    for (const candidate of model.entities('Candidate').toArray()) candidate.setAttribute('votes', 1000);
    for (let i = 0; i < count; i++) model.create('Candidate', { name: 'new ' + i });
    tasks = 0;
    done = false;
    void storage.merge('election', model.getEntityStates(), model.version).then(() => { done = true; });
  },
};
`;

/** Serves the bundled page on 127.0.0.1 (a free port). */
async function servePage() {
  const bundle = await build({ stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts' }, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error' });
  const script = bundle.outputFiles[0].text;
  const server = createServer((request, response) => {
    const [type, body] = request.url === '/page.js' ? ['text/javascript', script] : ['text/html', '<!doctype html><meta charset="utf-8"><title>storage crash</title><script type="module" src="/page.js"></script>'];
    response.writeHead(200, { 'content-type': type });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${address.port}/`, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}

/** @type {Awaited<ReturnType<typeof servePage>>} */
let page;
/** @type {string[]} */
const profiles = [];

before(async () => {
  page = await servePage();
});

after(async () => {
  await page?.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
});

/** @param {Awaited<ReturnType<typeof startDevice>>} device */
async function openPage(device) {
  const tab = await device.context.newPage();
  await tab.goto(page.url);
  await tab.waitForFunction(() => 'storageCrash' in window, undefined, { timeout: 60_000 });
  return tab;
}

describe('a browser killed during a large IndexedDB save', () => {
  it('keeps exactly the last committed save, and a save that resolved survives a kill right after', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'ednet-storage-crash-'));
    profiles.push(profile);
    let device = await startDevice(profile);
    try {
      let tab = await openPage(device);
      const first = await tab.evaluate(() => /** @type {any} */ (window).storageCrash.fill(1_000));
      assert.equal(JSON.parse(first).commit, 1);

      await tab.evaluate(() => /** @type {any} */ (window).storageCrash.startBigSave(20_000));
      // The save's transaction is under way (a few dozen of its 420 tasks done), not committed.
      await tab.waitForFunction(() => /** @type {any} */ (window).storageCrash.tasks() >= 30, undefined, { timeout: 120_000, polling: 5 });
      assert.equal(await tab.evaluate(() => /** @type {any} */ (window).storageCrash.done()), false, 'the big save is done before the crash');
      await device.kill();

      device = await startDevice(profile);
      tab = await openPage(device);
      assert.equal(await tab.evaluate(() => /** @type {any} */ (window).storageCrash.stored()), first, 'storage holds the first save exactly');

      await tab.evaluate(() => /** @type {any} */ (window).storageCrash.startBigSave(20_000));
      await tab.waitForFunction(() => /** @type {any} */ (window).storageCrash.done(), undefined, { timeout: 300_000, polling: 50 });
      await device.kill();

      device = await startDevice(profile);
      tab = await openPage(device);
      const second = JSON.parse(await tab.evaluate(() => /** @type {any} */ (window).storageCrash.stored()));
      assert.equal(second.commit, 2);
      assert.equal(second.entities.length, 21_000);
      assert.deepEqual(second.damaged, []);
      assert.ok(second.entities.filter((/** @type {{ oid: string }} */ entity) => entity.oid.startsWith('alice-')).every((/** @type {any} */ entity) => entity.attributes.votes[0].value === 1000));
    } finally {
      await device.close();
    }
  });
});
