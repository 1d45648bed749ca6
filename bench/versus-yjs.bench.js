// Side by side with Yjs and Automerge, in Node, on the electoral workload
// (bench/lib/electoral-workload.js) of 1,000 and 10,000 entities: local attribute writes (workload
// 1), remote changes applied from wire bytes (2), delta and snapshot bytes (3), and retained heap
// per entity (4, in child processes started with --expose-gc; ours and Yjs only: Automerge keeps
// its state in WebAssembly memory, which V8's heap does not count). Every figure is a median of
// several runs after a warm-up, the sides measured in turns.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import * as A from '@automerge/automerge';
import * as Y from 'yjs';
import { AUTOMERGE_BATCH, buildAutomerge } from './lib/automerge-workload.js';
import { buildOurs, buildYjs } from './lib/electoral-workload.js';
import { bundleCore, importCore } from './lib/load-core.js';
import { comparison, repeatAsync, repeatInTurns } from './lib/stats.js';

/** What workloads 1–4 run: the model alone, as the rows say (the WebRTC rows run the shipped configuration). */
const MODEL_ONLY = 'model only: unsigned, no storage or sync attached';

const SIZES = [1_000, 10_000];
const EDITS = 100;
/** The whole-state size row of the issue that set the Automerge target (full runs only: Automerge builds it in minutes). */
const LARGE = 100_000;
const probe = fileURLToPath(new URL('./lib/heap-probe.js', import.meta.url));

/** @param {number} n */
const entities = (n) => n.toLocaleString('en-US');

/**
 * Writes per second of `writes` attribute writes spread over the voters.
 * @param {number} writes
 * @param {(voter: number, value: string) => void} write
 * @param {number} voters
 */
function writeRate(writes, write, voters) {
  let round = 0;
  return () => {
    round++;
    const start = performance.now();
    for (let i = 0; i < writes; i++) write(i % voters, `District ${round}.${i}`);
    return writes / ((performance.now() - start) / 1000);
  };
}

/**
 * Retained heap per entity of one side, from a fresh `node --expose-gc` process.
 * @param {'ours' | 'yjs'} side
 * @param {number} n
 * @param {string} corePath
 */
async function heapPerEntity(side, n, corePath) {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', probe, side, String(n), corePath]);
  return /** @type {{ bytesPerEntity: number }} */ (JSON.parse(stdout)).bytesPerEntity;
}

/**
 * Runs the comparison; `quick` does fewer repetitions and writes.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const bundle = await bundleCore();
  try {
    const core = await importCore(bundle.path);
    const runs = quick ? 3 : 7;
    const writes = quick ? 20_000 : 100_000;
    const results = [];

    for (const n of SIZES) {
      let ours = buildOurs(core, n, 'alice');
      let yjs = buildYjs(n);
      let automerge = buildAutomerge(n);
      // Automerge's document is an immutable JS value: a change copies the objects on its path,
      // here the map of all entities, so a write costs time in proportion to the room. It gets
      // fewer writes to keep the run short; the row compares rates.
      const automergeWrites = quick ? 20 : 100;
      const [oursWrites, yjsWrites, automergeRate] = repeatInTurns(
        runs,
        writeRate(writes, (v, value) => ours.voters[v].setAttribute('district', value), ours.voters.length),
        writeRate(writes, (v, value) => yjs.voters[v].set('district', value), yjs.voters.length),
        writeRate(
          automergeWrites,
          (v, value) => {
            automerge.doc = A.change(automerge.doc, (d) => {
              d.entities[automerge.voters[v]].district = value;
            });
          },
          automerge.voters.length,
        ),
      );
      results.push(
        comparison({
          workload: 1,
          name: `local attribute writes, ${entities(n)} entities (${MODEL_ONLY}; each write its own transaction or change; Automerge ${automergeWrites} writes a run, the others ${writes.toLocaleString('en-US')})`,
          unit: 'writes/s',
          ours: oursWrites,
          theirs: yjsWrites,
          automerge: automergeRate,
          target: { of: 'ratio', op: '>=', limit: 1 },
        }),
      );

      // The other workloads start from fresh builds: Yjs keeps every overwritten write in its
      // delete set, which the write loop above would have grown far past a typical document.
      ours = buildOurs(core, n, 'alice');
      yjs = buildYjs(n);
      automerge = buildAutomerge(n);

      // From the bytes a peer receives to merged state: parse, unpack, validate and apply (the
      // packed delta message protocol-2 peers send), against Yjs's decode-and-integrate of the
      // equivalent update.
      const wire = toWire(core, ours.model.getDelta(new core.VersionVector()));
      const update = Y.encodeStateAsUpdate(yjs.doc);
      const saved = A.save(automerge.doc);
      const [oursWhole, yjsWhole, automergeWhole] = repeatInTurns(
        runs,
        () => {
          const bob = new core.ElectoralSystemModel({ modelId: 'bench', nodeId: 'bob', roles: 'open' });
          const start = performance.now();
          const batch = fromWire(core, wire);
          const result = bob.applyChanges(batch);
          const seconds = (performance.now() - start) / 1000;
          if (!result.complete || result.applied !== batch.changes.length) throw new Error('the delta was not applied whole');
          return n / seconds;
        },
        () => {
          const doc = new Y.Doc();
          const start = performance.now();
          Y.applyUpdate(doc, update);
          const seconds = (performance.now() - start) / 1000;
          if (doc.getMap('entities').size !== n) throw new Error('the update was not applied whole');
          return n / seconds;
        },
        () => {
          const start = performance.now();
          const doc = A.load(saved);
          const seconds = (performance.now() - start) / 1000;
          if (Object.keys(doc.entities).length !== n) throw new Error('the document was not loaded whole');
          return n / seconds;
        },
      );
      results.push(
        comparison({
          workload: 2,
          name: `remote changes applied, whole ${entities(n)}-entity state as one delta, from wire bytes (${MODEL_ONLY}; the engine would send it in 2,000-change parts; Automerge: load() of its saved document, its fastest path)`,
          unit: 'entities/s',
          ours: oursWhole,
          theirs: yjsWhole,
          automerge: automergeWhole,
          target: { of: 'ratio', op: '>=', limit: 1 },
          extra: { changes: ours.model.getChangesSince(new core.VersionVector()).length },
        }),
      );

      // Live sync: a replica holding the whole model receives EDITS one-attribute updates, each
      // parsed, validated and applied on its own.
      const baseWire = toWire(core, ours.model.getDelta(new core.VersionVector()));
      const baseUpdate = Y.encodeStateAsUpdate(yjs.doc);
      const oursSince = ours.model.version;
      const yjsSince = Y.encodeStateVector(yjs.doc);
      /** @type {Uint8Array[]} */
      const oursEdits = [];
      /** @type {Uint8Array[]} */
      const yjsEdits = [];
      const onUpdate = (/** @type {Uint8Array} */ update) => yjsEdits.push(update);
      const automergeBase = A.save(automerge.doc);
      const automergeSince = A.getHeads(automerge.doc);
      /** @type {Uint8Array[]} */
      const automergeEdits = [];
      yjs.doc.on('update', onUpdate);
      for (let i = 0; i < EDITS; i++) {
        const before = ours.model.version;
        const voter = (i * 37) % ours.voters.length;
        ours.voters[voter].setAttribute('name', `Edited ${i}`);
        oursEdits.push(toWire(core, ours.model.getDelta(before)));
        yjs.voters[voter].set('name', `Edited ${i}`);
        automerge.doc = A.change(automerge.doc, (d) => {
          d.entities[automerge.voters[voter]].name = `Edited ${i}`;
        });
        automergeEdits.push(/** @type {Uint8Array} */ (A.getLastLocalChange(automerge.doc)));
      }
      yjs.doc.off('update', onUpdate);
      const [oursLive, yjsLive, automergeLive] = repeatInTurns(
        runs,
        () => {
          const bob = new core.ElectoralSystemModel({ modelId: 'bench', nodeId: 'bob', roles: 'open' });
          const base = fromWire(core, baseWire);
          bob.applyChanges(base);
          const start = performance.now();
          for (const wire of oursEdits) {
            const batch = fromWire(core, wire);
            if (!bob.applyChanges(batch).complete) throw new Error('an edit was not applied whole');
          }
          return EDITS / ((performance.now() - start) / 1000);
        },
        () => {
          const doc = new Y.Doc();
          Y.applyUpdate(doc, baseUpdate);
          const start = performance.now();
          for (const update of yjsEdits) Y.applyUpdate(doc, update);
          return EDITS / ((performance.now() - start) / 1000);
        },
        () => {
          let doc = A.load(automergeBase);
          const start = performance.now();
          for (const change of automergeEdits) [doc] = A.applyChanges(doc, [change]);
          return EDITS / ((performance.now() - start) / 1000);
        },
      );
      results.push(
        comparison({
          workload: 2,
          name: `remote changes applied, ${EDITS} one-attribute deltas into a ${entities(n)}-entity replica, from wire bytes (${MODEL_ONLY})`,
          unit: 'deltas/s',
          ours: oursLive,
          theirs: yjsLive,
          automerge: automergeLive,
          target: { of: 'ratio', op: '>=', limit: 1 },
        }),
      );

      if (n === 10_000) {
        const delta = Buffer.from(toWire(core, ours.model.getDelta(oursSince)));
        const yjsDelta = Y.encodeStateAsUpdate(yjs.doc, yjsSince);
        const automergeDelta = A.saveSince(automerge.doc, automergeSince);
        const snapshot = Buffer.from(toWire(core, ours.model.getDelta(new core.VersionVector())));
        const exported = Buffer.from(JSON.stringify(ours.model.getSnapshot()));
        const yjsSnapshot = Y.encodeStateAsUpdate(yjs.doc);
        const automergeSnapshot = A.save(automerge.doc);
        const bytes = { of: /** @type {const} */ ('ratio'), op: /** @type {const} */ ('<='), limit: 1 };
        results.push(
          comparison({ workload: 3, name: `delta bytes after ${EDITS} attribute edits, ${entities(n)} entities (ours: delta message as sent, packed, unsigned, before frame compression; Yjs: update from a state vector; both uncompressed; Automerge: saveSince() of the edits, its own compression)`, unit: 'bytes', ours: delta.length, theirs: yjsDelta.length, automerge: automergeDelta.length, target: bytes }),
          comparison({ workload: 3, name: `snapshot bytes, ${entities(n)} entities (ours: whole-state delta message, packed, unsigned, one message, before frame compression; Yjs: whole-state update; both uncompressed; Automerge: save(), columnar with its own compression)`, unit: 'bytes', ours: snapshot.length, theirs: yjsSnapshot.length, automerge: automergeSnapshot.length, target: bytes }),
          comparison({ workload: 3, name: `room file bytes, ${entities(n)} entities (ours: JSON snapshot export; Yjs: whole-state update; for information)`, unit: 'bytes', ours: exported.length, theirs: yjsSnapshot.length }),
          comparison({ workload: 3, name: `delta bytes gzipped, ${EDITS} attribute edits, ${entities(n)} entities (all three gzipped; for information)`, unit: 'bytes', ours: gzipSync(delta).length, theirs: gzipSync(yjsDelta).length, automerge: gzipSync(automergeDelta).length }),
          comparison({ workload: 3, name: `snapshot bytes gzipped, ${entities(n)} entities (all three gzipped; for information)`, unit: 'bytes', ours: gzipSync(snapshot).length, theirs: gzipSync(yjsSnapshot).length, automerge: gzipSync(automergeSnapshot).length }),
          mergeBytes(core, n, ours.model, yjs.doc, automerge.doc),
          encodeTime(core, n, runs, ours.model, yjs.doc, automerge.doc),
        );
      }
    }

    if (!quick) results.push(...large(core));

    for (const n of SIZES) {
      const probes = quick ? 1 : 3;
      const measure = (/** @type {'ours' | 'yjs'} */ side) => repeatAsync(probes, () => heapPerEntity(side, n, bundle.path), { warmUp: false });
      results.push(
        comparison({
          workload: 4,
          name: `retained heap per entity, ${entities(n)} entities (Node, --expose-gc, fresh process each; ${MODEL_ONLY})`,
          unit: 'bytes/entity',
          ours: await measure('ours'),
          theirs: await measure('yjs'),
          target: { of: 'ratio', op: '<=', limit: 1 },
        }),
      );
    }
    return results;
  } finally {
    bundle.dispose();
  }
}

/**
 * The 100,000-entity rows: whole-state bytes (ours and Yjs gzipped against Automerge's saved
 * document, columnar, as it stores and sends it) and the CPU time to encode the whole state.
 * @param {import('./lib/load-core.js').Core} core
 */
function large(core) {
  const ours = buildOurs(core, LARGE, 'alice').model;
  const yjs = buildYjs(LARGE).doc;
  const automerge = buildAutomerge(LARGE).doc;
  return [
    comparison({
      workload: 3,
      name: `whole state bytes, ${entities(LARGE)} entities (ours: whole-state delta message, packed, unsigned, gzipped; Yjs: whole-state update, gzipped; Automerge: save(), columnar with its own compression, built in changes of ${AUTOMERGE_BATCH.toLocaleString('en-US')} operations)`,
      unit: 'bytes',
      ours: gzipSync(toWire(core, ours.getDelta(new core.VersionVector()))).length,
      theirs: gzipSync(Y.encodeStateAsUpdate(yjs)).length,
      automerge: A.save(automerge).length,
      target: { of: 'automerge', op: '<=', limit: 1 },
    }),
    encodeTime(core, LARGE, 1, ours, yjs, automerge),
  ];
}

/**
 * Bytes two replicas exchange to merge after 1,000 concurrent one-attribute edits each on a shared
 * state: what each says it holds (ours: its version; Yjs: its state vector; Automerge: its heads)
 * and what the other sends back (ours: the packed delta message; Yjs: the update; Automerge:
 * `saveSince`). Each edit is its own transaction or change. Checks that both sides converge.
 * @param {import('./lib/load-core.js').Core} core
 * @param {number} n
 * @param {import('../src/models/electoral/index.js').ElectoralSystemModel} base
 * @param {Y.Doc} yjsBase
 * @param {A.Doc<{ entities: Record<string, Record<string, unknown>> }>} automergeBase
 */
function mergeBytes(core, n, base, yjsBase, automergeBase) {
  const edits = 1_000;
  const voters = base.voters().map((voter) => voter.oid);
  const whole = toWire(core, base.getDelta(new core.VersionVector()));
  const [a, b] = ['carol', 'dave'].map((nodeId) => {
    const model = new core.ElectoralSystemModel({ modelId: 'bench', nodeId, roles: 'open' });
    if (!model.applyChanges(fromWire(core, whole)).complete) throw new Error('the shared state was not applied whole');
    return model;
  });
  // Overlapping voters, different attributes: concurrent, and both edits survive the merge.
  for (let i = 0; i < edits; i++) {
    a.update(voters[i], { district: `A ${i}` });
    b.update(voters[i + edits / 2], { email: `b${i}@example.org` });
  }
  const aToB = toWire(core, a.getDelta(b.version));
  const bToA = toWire(core, b.getDelta(a.version));
  const ours = aToB.length + bToA.length + JSON.stringify(a.version.toJSON()).length + JSON.stringify(b.version.toJSON()).length;
  a.applyChanges(fromWire(core, bToA));
  b.applyChanges(fromWire(core, aToB));
  if (a.digest().root !== b.digest().root) throw new Error('ours did not converge');

  const yjsWhole = Y.encodeStateAsUpdate(yjsBase);
  const [ya, yb] = [1, 2].map((clientID) => {
    const doc = new Y.Doc();
    doc.clientID = clientID;
    Y.applyUpdate(doc, yjsWhole);
    return doc;
  });
  const map = (/** @type {Y.Doc} */ doc, /** @type {number} */ i) => /** @type {Y.Map<any>} */ (doc.getMap('entities').get(yjsVoter(yjsBase, i)));
  for (let i = 0; i < edits; i++) {
    map(ya, i).set('district', `A ${i}`);
    map(yb, i + edits / 2).set('email', `b${i}@example.org`);
  }
  const [va, vb] = [Y.encodeStateVector(ya), Y.encodeStateVector(yb)];
  const [ua, ub] = [Y.encodeStateAsUpdate(ya, vb), Y.encodeStateAsUpdate(yb, va)];
  const yjs = va.length + vb.length + ua.length + ub.length;
  Y.applyUpdate(ya, ub);
  Y.applyUpdate(yb, ua);
  if (!equalBytes(Y.encodeStateVector(ya), Y.encodeStateVector(yb))) throw new Error('Yjs did not converge');

  const saved = A.save(automergeBase);
  let [ma, mb] = ['aa', 'bb'].map((actor) => A.load(/** @type {Uint8Array} */ (saved), { actor: actor.repeat(16) }));
  const keys = Object.keys(ma.entities).filter((oid) => ma.entities[oid].type === 'Voter');
  for (let i = 0; i < edits; i++) {
    ma = A.change(ma, (d) => {
      d.entities[keys[i]].district = `A ${i}`;
    });
    mb = A.change(mb, (d) => {
      d.entities[keys[i + edits / 2]].email = `b${i}@example.org`;
    });
  }
  // What each lacks is what the other made since the shared base (Automerge's sync protocol finds
  // that base from the heads each sends).
  const common = A.getHeads(automergeBase);
  const [sa, sb] = [A.saveSince(ma, common), A.saveSince(mb, common)];
  const automerge = (A.getHeads(ma).length + A.getHeads(mb).length) * 32 + sa.length + sb.length;
  ma = A.loadIncremental(ma, sb);
  mb = A.loadIncremental(mb, sa);
  if (!A.equals(ma, mb)) throw new Error('Automerge did not converge');
  return comparison({
    workload: 3,
    name: `bytes to merge two replicas of ${entities(n)} entities after ${edits.toLocaleString('en-US')} concurrent one-attribute edits each, both directions (what each holds, then what the other lacks; ours packed, unsigned; each edit its own transaction or change)`,
    unit: 'bytes',
    ours,
    theirs: yjs,
    automerge,
    target: { of: 'ratio', op: '<=', limit: 1 },
  });
}

/**
 * The `i`-th voter's key in a Yjs document of the workload.
 * @param {Y.Doc} doc
 * @param {number} i
 */
function yjsVoter(doc, i) {
  let voters = yjsVoters.get(doc);
  if (!voters) {
    voters = [...doc.getMap('entities').entries()].filter(([, entity]) => /** @type {Y.Map<any>} */ (entity).get('type') === 'Voter').map(([oid]) => oid);
    yjsVoters.set(doc, voters);
  }
  return voters[i];
}
/** @type {WeakMap<Y.Doc, string[]>} */
const yjsVoters = new WeakMap();

/** @param {Uint8Array} a @param {Uint8Array} b */
const equalBytes = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);

/**
 * CPU time to encode a whole state for a peer or a file: ours the whole-state delta message
 * (getDelta from nothing, packed); Yjs `encodeStateAsUpdate`; Automerge `save()`.
 * @param {import('./lib/load-core.js').Core} core
 * @param {number} n
 * @param {number} runs
 * @param {import('../src/models/electoral/index.js').ElectoralSystemModel} ours
 * @param {Y.Doc} yjs
 * @param {A.Doc<unknown>} automerge
 */
function encodeTime(core, n, runs, ours, yjs, automerge) {
  const cpu = (/** @type {() => unknown} */ encode) => () => {
    const start = process.cpuUsage();
    encode();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  const [oursMs, yjsMs, automergeMs] = repeatInTurns(
    runs,
    cpu(() => toWire(core, ours.getDelta(new core.VersionVector()))),
    cpu(() => Y.encodeStateAsUpdate(yjs)),
    cpu(() => A.save(automerge)),
  );
  return comparison({
    workload: 3,
    name: `encoding the whole state, ${entities(n)} entities (CPU; ours: whole-state delta message, packed, unsigned; Yjs: encodeStateAsUpdate; Automerge: save())`,
    unit: 'ms CPU',
    ours: oursMs,
    theirs: yjsMs,
    automerge: automergeMs,
    target: { of: 'ratio', op: '<=', limit: 1 },
  });
}

/**
 * A delta as the sync engine puts it on the wire between two protocol-2 peers (packed).
 * @param {import('./lib/load-core.js').Core} core
 * @param {import('../src/domain/model-change.js').ChangeBatch} batch
 */
function toWire(core, batch) {
  return core.encodeSyncMessage({ t: 'delta', seq: 1, part: 1, parts: 1, batch }, 'compact');
}

/**
 * What the receiving engine does with those bytes before applying: parse, unpack, validate.
 * @param {import('./lib/load-core.js').Core} core
 * @param {Uint8Array} bytes
 */
function fromWire(core, bytes) {
  const message = core.decodeSyncMessage(bytes, 2 ** 30);
  if ('error' in message) throw new Error(message.error);
  if (message.t !== 'delta') throw new Error(`expected a delta, got ${message.t}`);
  return message.batch;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'versus-yjs', ...row }));
}
