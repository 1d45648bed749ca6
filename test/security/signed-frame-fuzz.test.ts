import { expect } from 'chai';
import { deleteDB } from 'idb';
import { type NodeId, asNodeId } from '../../src/crdt/index.js';
import type { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { ElectionRoles } from '../../src/models/electoral/index.js';
import { DeviceIdentity } from '../../src/security/index.js';
import { decodeSyncMessage, isDecodeError } from '../../src/sync/sync-message.js';
import { SynchronizationEngine } from '../../src/sync/synchronization-engine.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, openElection } from '../models/electoral/electoral-fixture.js';
import { FrameMutator } from './frame-mutator.js';
import { seededRandom } from '../seeded-random.js';
import { ScriptedConnection } from './scripted-connection.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

// Fewer frames than the unsigned fuzz (each may cost a signature check), and a stronger claim:
// no mutated frame changes any entity, because every item must match its author's signature.
const FRAMES = 20_000;
const MAX_FRAME_BYTES = 1 << 20;
const quiet = { warn: () => undefined };

interface Replica {
  readonly id: NodeId;
  readonly model: ElectoralSystemModel;
  readonly engine: SynchronizationEngine;
}

function replica(identity: DeviceIdentity, clock: ReturnType<typeof fakeClock>): Replica {
  const id = identity.newNodeId();
  const model = electoral(id, clock, ElectionRoles.enforced);
  // No ban after repeated offences and no budget of checks: this fuzz wants every mutated frame
  // to reach verification at once (both have their own tests in test/sync/).
  const bans = { firstMs: 0, maxMs: 0 };
  const verification = { perSecond: Number.MAX_SAFE_INTEGER, burst: Number.MAX_SAFE_INTEGER };
  const engine = new SynchronizationEngine({ nodeId: id, antiEntropyIntervalMs: 0, maxChangesPerMessage: 4, logger: quiet, signer: identity, bans, verification });
  engine.registerModel(model.modelId, model);
  return { id, model, engine };
}

/** Links two engines through scripted connections; `record` sees every frame `from` sends. */
function wire(from: Replica, to: Replica, record: (frame: Uint8Array) => void = () => undefined) {
  const atTo = new ScriptedConnection(from.id);
  const atFrom = new ScriptedConnection(to.id);
  atFrom.onSend = (frame) => {
    record(frame);
    queueMicrotask(() => atTo.deliver(frame));
  };
  atTo.onSend = (frame) => queueMicrotask(() => atFrom.deliver(frame));
  from.engine.addConnection(atFrom);
  to.engine.addConnection(atTo);
  return { atTo, atFrom };
}

const entitiesOf = (model: ElectoralSystemModel) => JSON.stringify(model.getEntityStates());
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('fuzzing a signing sync engine with mutated signed frames', function () {
  this.timeout(10 * 60 * 1000);
  const dbNames = ['mallory', 'alice', 'bob'].map((name) => `signed-fuzz-${name}-${Math.random().toString(36).slice(2)}`);
  after(async () => {
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });

  it(`applies no item of ${FRAMES.toLocaleString('en')} mutated frames and keeps syncing`, async () => {
    const [malloryKey, aliceKey, bobKey] = await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))));
    const clock = fakeClock();
    const mallory = replica(malloryKey!, clock);
    const ids = openElection(mallory.model);
    mallory.model.castBallot({ voterId: ids.vera, electionId: ids.election, candidateId: ids.ann });
    // Alice first gets everything of mallory's the honest way, so genuine frames change nothing.
    const alice = replica(aliceKey!, clock);
    const frames: Uint8Array[] = [];
    wire(mallory, alice, (frame) => frames.push(frame));
    while (alice.model.version.compare(mallory.model.version) !== 'equal') await pause();
    const deltas = frames.filter((frame) => (decodeSyncMessage(frame, MAX_FRAME_BYTES) as { t?: string }).t === 'delta');
    expect(deltas.length).to.be.greaterThan(1);
    const hello = frames[0]!;
    const before = entitiesOf(alice.model);
    expect(before).to.equal(entitiesOf(mallory.model));

    // Mallory's mutated frames, from another tab of her device, reconnecting whenever refused.
    const mutator = new FrameMutator(frames, seededRandom(0x51a7ed));
    const tab = asNodeId(malloryKey!.newNodeId());
    let connection: ScriptedConnection | undefined;
    let decoded = 0;
    let reconnects = 0;
    for (let i = 0; i < FRAMES; i++) {
      if (!connection || connection.state !== 'open') {
        connection = new ScriptedConnection(tab);
        alice.engine.addConnection(connection);
        connection.deliver(retag(hello, tab));
        reconnects++;
      }
      const frame = mutator.next();
      const decodes = !isDecodeError(decodeSyncMessage(frame, MAX_FRAME_BYTES));
      if (decodes) decoded++;
      expect(() => connection!.deliver(frame), `frame ${i}`).not.to.throw();
      // Verification is asynchronous: let it keep up with every frame that decodes, while the
      // connection that brought it is open (the frames of one closed for its offences are dropped
      // unchecked), and check the state as it goes.
      if (decodes) await pause();
      if (i % 200 === 199) {
        await pause();
        expect(entitiesOf(alice.model), `after frame ${i}`).to.equal(before);
      }
    }
    for (let i = 0; i < 20; i++) await pause();
    expect(entitiesOf(alice.model)).to.equal(before);
    expect(decoded).to.be.greaterThan(FRAMES / 20);
    expect(reconnects).to.be.greaterThan(1);
    // Mutations that decoded reached verification, and it caught them.
    const { counters } = alice.engine.certification!;
    expect(counters.rejectedItems + counters.refused).to.be.greaterThan(100);
    connection?.close('done');

    // A valid peer still syncs with alice, both ways.
    const bob = replica(bobKey!, clock);
    bob.model.registerVoter({ name: 'Bo', voterNumber: 'V-9' });
    wire(bob, alice);
    alice.model.registerVoter({ name: 'Al', voterNumber: 'V-8' });
    while (bob.model.version.compare(alice.model.version) !== 'equal') await pause();
    expect(entitiesOf(bob.model)).to.equal(entitiesOf(alice.model));
    expect(alice.model.findBy('Voter', 'voterNumber', 'V-9').first()).not.to.equal(undefined);
  });
});

/** The recorded hello with the sender's node id replaced (the hello must name the connection's peer). */
function retag(hello: Uint8Array, node: NodeId): Uint8Array {
  const message = JSON.parse(new TextDecoder().decode(hello));
  return new TextEncoder().encode(JSON.stringify({ ...message, node }));
}
