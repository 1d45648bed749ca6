import { expect } from 'chai';
import { VersionVector, asNodeId } from '../../src/crdt/index.js';
import { decodeChangeBatch, decodeSnapshot } from '../../src/domain/index.js';
import type { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryConnection } from '../../src/net/memory-connection.js';
import { decodeSyncMessage, isDecodeError, type SyncMessage } from '../../src/sync/sync-message.js';
import { SynchronizationEngine } from '../../src/sync/synchronization-engine.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, openElection } from '../models/electoral/electoral-fixture.js';
import { FrameMutator } from './frame-mutator.js';
import { seededRandom } from '../seeded-random.js';
import { ScriptedConnection } from './scripted-connection.js';
import { decodeBinaryJson, encodeBinaryJson } from '../../src/security/binary-json.js';
import { deriveRoomKeys } from '../../src/security/room-keys.js';
import { open, openBytes, seal, sealBytes } from '../../src/security/sealed-box.js';

const FRAMES = 100_000;
const MAX_FRAME_BYTES = 1 << 20;
const alice = asNodeId('alice');
const bob = asNodeId('bob');
const mallory = asNodeId('mallory');
const quiet = { warn: () => undefined };

function malloryReplica(clock = fakeClock()): ElectoralSystemModel {
  const model = electoral(mallory, clock);
  const ids = openElection(model);
  model.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ann });
  return model;
}

/**
 * Valid frames of every kind the protocol has, recorded from two real engines syncing (so the
 * corpus follows the protocol as it evolves): hellos, deltas in parts, acks, versions, infos.
 */
async function recordedCorpus(clock: ReturnType<typeof fakeClock>): Promise<{ frames: Uint8Array[]; hello: Uint8Array }> {
  const source = malloryReplica(clock);
  const sink = electoral(alice, clock);
  const frames: Uint8Array[] = [];
  const engines = [
    new SynchronizationEngine({ nodeId: mallory, antiEntropyIntervalMs: 0, maxChangesPerMessage: 4, displayName: 'Mallory', logger: quiet }),
    new SynchronizationEngine({ nodeId: alice, antiEntropyIntervalMs: 0, maxChangesPerMessage: 4, logger: quiet }),
  ];
  engines[0]!.registerModel(source.modelId, source);
  engines[1]!.registerModel(sink.modelId, sink);
  const fromMallory = new ScriptedConnection(mallory);
  const fromAlice = new ScriptedConnection(alice);
  const malloryFrames: Uint8Array[] = [];
  fromAlice.onSend = (frame) => {
    frames.push(frame);
    malloryFrames.push(frame);
    queueMicrotask(() => fromMallory.deliver(frame));
  };
  fromMallory.onSend = (frame) => {
    frames.push(frame);
    queueMicrotask(() => fromAlice.deliver(frame));
  };
  engines[0]!.addConnection(fromAlice);
  engines[1]!.addConnection(fromMallory);
  await engines[0]!.synchronize(source.modelId, 30_000);
  engines[0]!.setDisplayName('M');
  source.registerVoter({ name: 'Xavier', voterNumber: 'V-7' });
  await engines[0]!.synchronize(source.modelId, 30_000);
  for (const engine of engines) engine.stop();
  expect(sink.version.compare(source.version)).to.equal('equal');
  return { frames, hello: malloryFrames[0]! };
}

const snapshotOf = (model: ElectoralSystemModel) => JSON.stringify(model.getSnapshot());

describe('fuzzing the sync decoders and engine with hostile frames', function () {
  // Generous: the test has no timing assertion; this only stops a hung run.
  this.timeout(10 * 60 * 1000);

  it(`decoders return errors and never throw for ${FRAMES.toLocaleString('en')} random and mutated frames`, async () => {
    const clock = fakeClock();
    const { frames } = await recordedCorpus(clock);
    const kinds = new Set(frames.map((frame) => (decodeSyncMessage(frame, MAX_FRAME_BYTES) as SyncMessage).t));
    expect([...kinds].sort()).to.include.members(['ack', 'delta', 'hello', 'info', 'version']);
    const mutator = new FrameMutator(frames, seededRandom(0x5eed));
    const source = malloryReplica(clock);
    let refused = 0;
    for (let i = 0; i < FRAMES; i++) {
      const frame = mutator.next();
      const decoded = decodeSyncMessage(frame, MAX_FRAME_BYTES);
      if (isDecodeError(decoded)) {
        expect(decoded.error, `frame ${i}`).to.be.a('string').and.not.equal('');
        refused++;
      } else {
        expect(decoded.t, `frame ${i}`).to.be.oneOf(['hello', 'delta', 'ack', 'version', 'info', 'error']);
      }
    }
    // The mutations must mostly hit (or the fuzz tests nothing) and sometimes stay valid.
    expect(refused).to.be.greaterThan(FRAMES / 2);
    expect(refused).to.be.lessThan(FRAMES);

    const batch = source.getDelta(new VersionVector());
    const snapshot = source.getSnapshot();
    for (let i = 0; i < 10_000; i++) {
      expect(() => decodeChangeBatch(mutator.mutateValue(batch))).not.to.throw();
      expect(() => decodeSnapshot(mutator.mutateValue(snapshot))).not.to.throw();
    }
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it(`an engine fed ${FRAMES.toLocaleString('en')} hostile frames changes nothing for refused ones and keeps syncing`, async () => {
    const clock = fakeClock();
    const model = electoral(alice, clock);
    const ids = openElection(model);
    const engine = new SynchronizationEngine({ nodeId: alice, antiEntropyIntervalMs: 0, logger: quiet });
    engine.registerModel(model.modelId, model);
    const { frames, hello } = await recordedCorpus(clock);
    const mutator = new FrameMutator(frames, seededRandom(0xbad5eed));
    let connection: ScriptedConnection | undefined;
    let reconnects = 0;
    let refused = 0;
    let accepted = 0;
    let unchangedSince = snapshotOf(model);
    let acceptedSinceCheck = false;

    for (let i = 0; i < FRAMES; i++) {
      if (!connection || connection.state !== 'open') {
        // The engine hung up (too many bad frames, a lying hello): mallory simply dials again.
        connection = new ScriptedConnection(mallory);
        engine.addConnection(connection);
        connection.deliver(hello);
        reconnects++;
      }
      const frame = mutator.next();
      const refusedByDecoder = isDecodeError(decodeSyncMessage(frame, MAX_FRAME_BYTES));
      const before = model.version.clone();
      expect(() => connection!.deliver(frame), `frame ${i}`).not.to.throw();
      if (refusedByDecoder) {
        refused++;
        expect(model.version.compare(before), `frame ${i} was refused yet moved the version`).to.equal('equal');
      } else {
        accepted++;
        acceptedSinceCheck = true;
      }
      if (i % 1000 === 999) {
        // Whole-state check over every window in which only refused frames arrived.
        const now = snapshotOf(model);
        if (!acceptedSinceCheck) expect(now, `frames ${i - 999}–${i}`).to.equal(unchangedSince);
        unchangedSince = now;
        acceptedSinceCheck = false;
      }
    }
    expect(refused).to.be.greaterThan(FRAMES / 2);
    expect(accepted).to.be.greaterThan(0);
    expect(reconnects).to.be.greaterThan(1);
    connection?.close('done');

    // A valid peer still syncs with the engine, both ways.
    const bobModel = electoral(bob, clock);
    bobModel.registerVoter({ name: 'Bo', voterNumber: 'V-9' });
    const bobEngine = new SynchronizationEngine({ nodeId: bob, antiEntropyIntervalMs: 0, logger: quiet });
    bobEngine.registerModel(bobModel.modelId, bobModel);
    const hooks = { maxMessageBytes: MAX_FRAME_BYTES, delivered: () => undefined, closed: () => undefined };
    const [toBob, toAlice] = MemoryConnection.pair(
      { node: alice, logger: quiet, hooks },
      { node: bob, logger: quiet, hooks },
      'memory',
    );
    engine.addConnection(toBob);
    bobEngine.addConnection(toAlice);
    model.castBallot({ voterId: ids.walt, electionId: ids.election, candidateId: ids.ben });
    // Bounded by the mocha timeout only: no timing assertion.
    const inSync = (of: SynchronizationEngine) => of.peerStatus().some((peer) => peer.ready && peer.models.every((m) => m.inSync));
    while (!inSync(engine) || !inSync(bobEngine) || bobModel.version.compare(model.version) !== 'equal') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(bobModel.version.compare(model.version)).to.equal('equal');
    expect(snapshotOf(bobModel)).to.equal(snapshotOf(model));
    expect(model.findBy('Voter', 'voterNumber', 'V-9').first()).not.to.equal(undefined);
    engine.stop();
    bobEngine.stop();
  });

  it('sealed messages mutated in transit never open to anything but the original', async () => {
    const keys = await deriveRoomKeys('fuzz-room', 'A'.repeat(43));
    const random = seededRandom(0xc0ffee);
    const value = { kind: 'signal', session: 's1', data: { type: 'offer', sdp: 'v=0\r\n' } };
    const box = await seal(keys, value, 'alice>bob');
    const bytes = encodeBinaryJson({ t: 'data', data: new Uint8Array([1, 2, 3]) });
    const sealedBytes = await sealBytes(keys, bytes, 'chan');
    const mutator = new FrameMutator([new TextEncoder().encode(JSON.stringify(box))], random);
    let opened = 0;
    for (let i = 0; i < 5_000; i++) {
      const result = await open(keys, mutator.mutateValue(box), 'alice>bob');
      if ('value' in result) {
        expect(result.value).to.deep.equal(value);
        opened++;
      }
      const frame = mutator.next();
      expect(decodeBinaryJson(frame)).to.satisfy((decoded: object) => 'error' in decoded || 'value' in decoded);
      const flipped = sealedBytes.ct.slice();
      flipped[Math.floor(random() * flipped.length)]! ^= 1 << Math.floor(random() * 8);
      expect(await openBytes(keys, { ...sealedBytes, ct: flipped }, 'chan')).to.have.property('error', 'tampered');
    }
    expect(opened).to.be.lessThan(5_000);
  });
});
