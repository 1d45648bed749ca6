// Signed changes: what certifying and verifying cost next to applying, on the 10,000-entity
// electoral workload (bench/lib/electoral-workload.js), in Node with WebCrypto Ed25519. The
// receiver verifies every item of a whole-model delta (the most it ever checks at once: a
// bootstrap) against fresh certificates, so every signature is checked too.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { buildOurs } from './lib/electoral-workload.js';
import { loadCore } from './lib/load-core.js';
import { summarize } from './lib/stats.js';

const ENTITIES = 10_000;
const MODEL = 'bench';

/**
 * A device key the way `DeviceIdentity` makes one (without IndexedDB, which Node lacks).
 * @param {import('./lib/load-core.js').Core} core
 */
async function signer(core) {
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']));
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const deviceId = await core.DeviceIdentity.deviceIdOf(publicKey);
  return {
    deviceId,
    publicKey,
    /** @param {unknown} node */
    ownsNodeId: (node) => typeof node === 'string' && node.startsWith(deviceId),
    /** @param {Uint8Array} bytes */
    sign: async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, /** @type {Uint8Array<ArrayBuffer>} */ (bytes))),
  };
}

/**
 * Runs `measure` once to warm up, then `runs` times; each returns seconds.
 * @param {number} runs
 * @param {() => Promise<number>} measure
 */
async function timed(runs, measure) {
  await measure();
  const seconds = [];
  for (let i = 0; i < runs; i++) seconds.push(await measure());
  return summarize(seconds);
}

/**
 * Runs the benchmark; `quick` does fewer repetitions. Returns the measurements.
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const core = await loadCore();
  const runs = quick ? 3 : 7;
  const alice = await signer(core);
  const bob = await signer(core);
  const { model } = buildOurs(core, ENTITIES, `${alice.deviceId}benchtab`);
  const changes = model.getChangesSince(new core.VersionVector());
  // One wire round trip, so the receiver works on a decoded batch like the engine does.
  const batch = core.decodeChangeBatch(JSON.parse(JSON.stringify(model.getDelta(new core.VersionVector()))));
  if ('error' in batch) throw new Error(batch.error);
  const results = [];

  let certificates = /** @type {string[]} */ ([]);
  let items = 0;
  const signing = await timed(runs, async () => {
    const certification = new core.ChangeCertification(alice);
    const start = performance.now();
    items = await certification.certify(MODEL, changes);
    const seconds = (performance.now() - start) / 1000;
    certificates = certification.certificatesFor(MODEL, changes);
    return seconds;
  });
  results.push({ name: 'items signed per second (whole 10,000-entity model)', unit: 'items/s', value: Math.round(items / signing.median), items, certificates: certificates.length, spread: signing.spread, runs });

  const verifying = await timed(runs, async () => {
    const certification = new core.ChangeCertification(bob);
    const start = performance.now();
    const verified = await certification.verify(MODEL, batch, certificates);
    verified.keep(new Set());
    const seconds = (performance.now() - start) / 1000;
    if (!verified.ok) throw new Error(`verification failed: ${verified.problems[0]}`);
    return seconds;
  });
  results.push({
    name: 'signed changes verified per second (every item hashed, every signature checked)',
    unit: 'items/s',
    value: Math.round(items / verifying.median),
    certificatesPerSecond: Math.round(certificates.length / verifying.median),
    items,
    spread: verifying.spread,
    runs,
  });

  const apply = (/** @type {typeof batch} */ received) => {
    const receiver = new core.ElectoralSystemModel({ modelId: MODEL, nodeId: `${bob.deviceId}benchtab`, roles: 'open' });
    const result = receiver.applyChanges(received);
    if (result.applied !== batch.changes.length || !result.complete) throw new Error('benchmark delta was not applied whole');
  };
  const verify = async (/** @type {typeof batch} */ received, /** @type {readonly string[]} */ certs) => {
    const verified = await new core.ChangeCertification(bob).verify(MODEL, received, certs);
    if (!verified.ok) throw new Error(`verification failed: ${verified.problems[0]}`);
    return verified;
  };
  const perSecond = (/** @type {number} */ seconds) => Math.round(batch.changes.length / seconds);

  // The receive path as the engine runs it: a protocol-2 frame decoded, verified (on), applied.
  const delta = { t: /** @type {const} */ ('delta'), seq: 1, part: 1, parts: 1, batch: model.getDelta(new core.VersionVector()) };
  const plain = core.encodeSyncMessage(delta, 'compact');
  const signed = core.encodeSyncMessage({ ...delta, certs: certificates }, 'compact');
  const receive = (/** @type {Uint8Array} */ frame) => {
    const message = core.decodeSyncMessage(frame, 256 * 2 ** 20);
    if ('error' in message || message.t !== 'delta') throw new Error('benchmark frame did not decode');
    return message;
  };
  const frameOff = await timed(runs, async () => {
    const start = performance.now();
    apply(receive(plain).batch);
    return (performance.now() - start) / 1000;
  });
  const frameOn = await timed(runs, async () => {
    const start = performance.now();
    const message = receive(signed);
    const verified = await verify(message.batch, message.certs ?? []);
    apply(message.batch);
    verified.keep(new Set());
    return (performance.now() - start) / 1000;
  });
  // The goal: verifying costs less than a third of applying, so signed throughput keeps ≥ 3/4 of unsigned.
  results.push({
    name: 'remote changes received per second, signing on vs off (decode frame + verify + apply vs decode + apply)',
    unit: 'changes/s',
    versus: 'signing off',
    ours: perSecond(frameOn.median),
    theirs: perSecond(frameOff.median),
    ratio: +(frameOff.median / frameOn.median).toFixed(3),
    target: { of: 'ratio', op: '>=', limit: 0.75 },
    changes: batch.changes.length,
    frameBytesOn: signed.byteLength,
    frameBytesOff: plain.byteLength,
    spreadOn: frameOn.spread,
    spreadOff: frameOff.spread,
    runs,
  });

  // The same without decoding: verification next to applyChanges alone, its hardest comparison.
  const off = await timed(runs, async () => {
    const start = performance.now();
    apply(batch);
    return (performance.now() - start) / 1000;
  });
  const on = await timed(runs, async () => {
    const start = performance.now();
    const verified = await verify(batch, certificates);
    apply(batch);
    verified.keep(new Set());
    return (performance.now() - start) / 1000;
  });
  results.push({
    name: 'remote changes applied per second, signing on vs off (verify + applyChanges vs applyChanges, decoded batch)',
    unit: 'changes/s',
    versus: 'signing off',
    ours: perSecond(on.median),
    theirs: perSecond(off.median),
    ratio: +(off.median / on.median).toFixed(3),
    changes: batch.changes.length,
    spreadOn: on.spread,
    spreadOff: off.spread,
    runs,
  });
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'signing', ...row }));
}
