// The receive path with signing on and off, in the shipped configuration, in the system Chromium:
// a sync engine with the model's persistence on IndexedDB attached as its durability (as
// `openRoomSession` wires them), receiving the 10,000-entity electoral workload from a peer. The
// frames the peer sends (hello and the delta in parts, compressed as on the wire) are recorded once
// per setting from a real exchange; each run replays them to a fresh replica and times until it
// acknowledges holding everything: decompress, decode, verify (on), apply, store in IndexedDB, digest,
// ack. The ratio is of wall-clock times; the page's main-thread CPU time (from a Chromium trace, in
// separate runs) is given beside it, since on a shared machine wall clock also counts waiting for
// a core. `node bench/receive.bench.js [--quick]` prints the rows.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';
import { traceMainThreadTasks } from './lib/main-thread-tasks.js';
import { serveBundledPage } from './lib/serve-bundled-page.js';
import { summarize } from './lib/stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTITIES = 10_000;

const PAGE_ENTRY = `
import { deleteDB } from 'idb';
import { VersionVector } from './src/crdt/index.ts';
import { ElectoralSystemModel } from './src/models/electoral/index.ts';
import { BaseConnection } from './src/net/base-connection.ts';
import { DeviceIdentity } from './src/security/index.ts';
import { IndexedDbDeviceKeyStore, IndexedDbStorageAdapter, ModelPersistence } from './src/store/index.ts';
import { SynchronizationEngine, decodeSyncMessage } from './src/sync/index.ts';
import { buildOurs } from './bench/lib/electoral-workload.js';

const MODEL = 'bench';
const quiet = { warn: () => undefined };

// One end of an in-page link: frames sent go to \`peer\`'s receive, in a later task (as a data channel delivers).
class Pipe extends BaseConnection {
  constructor(peerId) {
    super(peerId, 'memory', quiet);
    this.onSend = () => undefined;
    this.markOpen();
  }
  send(frame) {
    if (this.state !== 'open') return Promise.reject(new Error('closed'));
    this.onSend(frame.slice());
    return Promise.resolve();
  }
  close(reason = 'closed') {
    this.markClosed(reason);
  }
  deliver(frame) {
    if (this.state === 'open') this.receive(frame);
  }
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
let identities;
let databases = 0;

async function devices() {
  identities ??= await Promise.all(['bench-receive-alice', 'bench-receive-bob'].map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))));
  return identities;
}

// Alice's frames to a fresh peer, signed or not: recorded from a real exchange with a throwaway replica.
async function record(signed, n) {
  const [alice, bob] = await devices();
  const aliceId = alice.newNodeId();
  const bobId = bob.newNodeId();
  const core = { ElectoralSystemModel: class { constructor() { return new ElectoralSystemModel({ modelId: MODEL, nodeId: aliceId, roles: 'open' }); } } };
  const { model } = buildOurs(core, n, aliceId);
  const sender = new SynchronizationEngine({ nodeId: aliceId, antiEntropyIntervalMs: 0, logger: quiet, ...(signed ? { signer: alice } : {}) });
  sender.registerModel(MODEL, model);
  const receiver = new SynchronizationEngine({ nodeId: bobId, antiEntropyIntervalMs: 0, logger: quiet, ...(signed ? { signer: bob } : {}) });
  const replica = new ElectoralSystemModel({ modelId: MODEL, nodeId: bobId, roles: 'open' });
  receiver.registerModel(MODEL, replica);
  // Signing happens after registration: wait until every item is signed, so the delta is whole.
  if (signed) while (sender.certification.counters.signed === 0 || sender.certification.sendable(MODEL, model.getChangesSince(new VersionVector()), model.version).version.compare(model.version) !== 'equal') await turn();
  const toBob = new Pipe(aliceId);
  const toAlice = new Pipe(bobId);
  const frames = [];
  toAlice.onSend = (frame) => {
    frames.push(frame);
    setTimeout(() => toBob.deliver(frame));
  };
  toBob.onSend = (frame) => setTimeout(() => toAlice.deliver(frame));
  receiver.addConnection(toBob);
  sender.addConnection(toAlice);
  while (!replica.version.includes(model.version)) await turn();
  sender.stop();
  receiver.stop();
  return { frames, aliceId, bobId, version: model.version.toJSON(), changes: model.getChangesSince(new VersionVector()).length, bytes: frames.reduce((sum, frame) => sum + frame.byteLength, 0) };
}

const recordings = new Map();

// One run: a fresh replica with its IndexedDB persistence receives the recorded frames; resolves
// with the milliseconds until it acknowledged everything (an ack is sent only once stored).
async function receive(signed, n) {
  if (!recordings.has(signed)) recordings.set(signed, await record(signed, n));
  const { frames, aliceId, bobId, version } = recordings.get(signed);
  const [, bob] = await devices();
  const dbName = 'bench-receive-' + ++databases;
  const storage = new IndexedDbStorageAdapter({ roomId: 'bench', dbName });
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: bobId, roles: 'open' });
  const engine = new SynchronizationEngine({ nodeId: bobId, antiEntropyIntervalMs: 0, logger: quiet, ...(signed ? { signer: bob } : {}) });
  const persistence = new ModelPersistence(model, storage, signed ? { certificates: engine.certification.store(MODEL) } : {});
  await persistence.load();
  engine.registerModel(MODEL, model, { durability: persistence });
  const wanted = VersionVector.fromJSON(version);
  const connection = new Pipe(aliceId);
  let done;
  const acked = new Promise((resolve) => (done = resolve));
  connection.onSend = (frame) => {
    const message = decodeSyncMessage(frame, 1 << 28);
    if (message.t === 'ack' && message.complete && VersionVector.fromJSON(message.version).includes(wanted)) done();
  };
  engine.addConnection(connection);
  await turn();
  const started = performance.now();
  for (const frame of frames) setTimeout(() => connection.deliver(frame));
  await acked;
  const ms = performance.now() - started;
  engine.stop();
  persistence.close();
  storage.close();
  await deleteDB(dbName);
  if (!model.version.includes(wanted)) throw new Error('the replica acknowledged less than it was sent');
  return ms;
}

window.receiveBench = { receive, recording: (signed) => { const r = recordings.get(signed); return r && { frames: r.frames.length, bytes: r.bytes, changes: r.changes }; } };
`;

/**
 * Runs every measurement and returns one object per row.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const runs = quick ? 3 : 5;
  const page = await serveBundledPage({ entry: { stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts' } }, title: 'receive bench' });
  const browser = await chromium.launch({ executablePath, args: chromiumArgs });
  try {
    const tab = await browser.newPage();
    tab.on('pageerror', (error) => console.error(`[receive bench page] ${error.message}`));
    await tab.goto(page.url);
    await tab.waitForFunction(() => 'receiveBench' in window);
    /** @param {boolean} signed */
    const once = (signed) => tab.evaluate(([signed, n]) => /** @type {any} */ (window).receiveBench.receive(signed, n), /** @type {const} */ ([signed, ENTITIES]));
    /** The page's main-thread CPU for one run (crypto and IndexedDB work on other threads is not in it). @param {boolean} signed */
    const cpu = async (signed) => (await traceMainThreadTasks(browser, tab, () => once(signed))).tasks.cpuMs;
    // Warm-up (and recording) of both, then in turns so the machine's load weighs on both alike.
    await once(true);
    await once(false);
    const on = [];
    const off = [];
    for (let i = 0; i < runs; i++) {
      on.push(await once(true));
      off.push(await once(false));
    }
    const cpuOn = [];
    const cpuOff = [];
    for (let i = 0; i < runs; i++) {
      cpuOn.push(await cpu(true));
      cpuOff.push(await cpu(false));
    }
    const mainOn = summarize(cpuOn).median;
    const mainOff = summarize(cpuOff).median;
    const signedOn = summarize(on);
    const signedOff = summarize(off);
    const recording = await tab.evaluate(() => [true, false].map((signed) => /** @type {any} */ (window).receiveBench.recording(signed)));
    const changes = recording[0].changes;
    return [
      {
        name: `receive path, signing on vs off, shipped configuration: a replica with its IndexedDB persistence attached receives a ${ENTITIES.toLocaleString('en-US')}-entity model in parts until it acknowledges holding it (decompress, decode, verify, apply, store, digest, ack)`,
        unit: 'changes/s',
        versus: 'signing off',
        ours: Math.round((changes / signedOn.median) * 1000),
        theirs: Math.round((changes / signedOff.median) * 1000),
        ratio: +(signedOff.median / signedOn.median).toFixed(3),
        target: { of: 'ratio', op: '>=', limit: 0.75 },
        'ms on / off': `${Math.round(signedOn.median)} / ${Math.round(signedOff.median)}`,
        'main-thread CPU ms on / off (traced runs)': `${Math.round(mainOn)} / ${Math.round(mainOff)}`,
        'CPU ratio': +(mainOff / mainOn).toFixed(3),
        changes,
        'frames on / off': `${recording[0].frames} / ${recording[1].frames}`,
        'bytes on / off': `${recording[0].bytes} / ${recording[1].bytes}`,
        spreadOn: signedOn.spread,
        spreadOff: signedOff.spread,
        runs,
      },
    ];
  } finally {
    await browser.close();
    await page.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'receive', ...row }));
}
