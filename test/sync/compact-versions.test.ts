import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector, type VersionVectorJSON } from '../../src/crdt/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { VersionCodec, decodeCompactVersions, versionCheck } from '../../src/sync/compact-versions.js';
import { type SyncMessage, decodeSyncMessage, encodeSyncMessage, isDecodeError } from '../../src/sync/index.js';
import { seededRandom } from '../seeded-random.js';
import { MODEL, type SyncPeer, canonical, eventsOf, inSyncWith, link, settle, syncPeer, throughHooks, until } from './sync-peers.js';

type Frame = Record<string, unknown>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const parse = (bytes: Uint8Array): Frame => JSON.parse(decoder.decode(bytes)) as Frame;

/** What the sender's codec puts on the wire, read back by the receiver's decoder. */
function overTheWire(sender: VersionCodec, message: SyncMessage): SyncMessage {
  const decoded = decodeSyncMessage(encodeSyncMessage(sender.outgoing(message, true), 'compact'), 1_000_000);
  if (isDecodeError(decoded)) throw new Error(decoded.error);
  return decoded;
}

/** The versions a message carries, as the engine reads them. */
function versionsOf(message: SyncMessage): unknown {
  if (message.t === 'delta') return [message.batch.since, message.batch.version];
  if (message.t === 'ack' || message.t === 'version') return message.version;
  return undefined;
}

const delta = (since: VersionVectorJSON, version: VersionVectorJSON): SyncMessage => ({
  t: 'delta',
  seq: 1,
  part: 1,
  parts: 1,
  batch: { format: 1, modelId: MODEL, since, version, changes: [] },
});
const ack = (version: VersionVectorJSON): SyncMessage => ({ t: 'ack', model: MODEL, version, complete: true, seen: 1 });
const report = (version: VersionVectorJSON): SyncMessage => ({ t: 'version', model: MODEL, version, request: false, sent: 0, seen: 0 });

/** `count` other devices each wrote one election, and `peers` hold all of it: version vectors of count + 1 entries. */
function manyAuthors(peers: readonly SyncPeer[], count: number): void {
  for (let i = 0; i < count; i++) {
    const author = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId(`writer-${i}`), roles: 'open' });
    author.createElection({ title: `Election ${i}` });
    for (const peer of peers) expect(peer.model.applyChanges(author.getDelta(new VersionVector())).rejected).to.deep.equal([]);
  }
}

/** Records the frames an engine sends on a link; `rewrite` may change each frame either way. */
function recording(sent: Frame[], rewrite: (frame: Frame) => Frame = (frame) => frame) {
  return (connection: PeerConnection): PeerConnection =>
    throughHooks(
      connection,
      (bytes) => {
        const frame = rewrite(parse(bytes));
        sent.push(frame);
        return encoder.encode(JSON.stringify(frame));
      },
      (bytes) => encoder.encode(JSON.stringify(rewrite(parse(bytes)))),
    );
}

/** A hello offering only protocols before 5 (an older build). */
const olderThan5 = (frame: Frame): Frame => (frame.t === 'hello' ? { ...frame, protocols: (frame.protocols as number[]).filter((p) => p < 5) } : frame);

describe('compact versions (sync protocol 5)', () => {
  it('every version comes back exactly, whatever changed: entries up and down, gaps, entries gone', () => {
    const random = seededRandom(5);
    const nodes = Array.from({ length: 12 }, (_, i) => `node-${i}`);
    let current: VersionVectorJSON = Object.fromEntries(nodes.map((node) => [node, 10]));
    // A walk: each version changes one or two entries of the one before (up, down, a gap, gone).
    const next = (): VersionVectorJSON => {
      const json: VersionVectorJSON = { ...current };
      for (let k = 0; k < 1 + Math.floor(random() * 2); k++) {
        const node = nodes[Math.floor(random() * nodes.length)]!;
        const roll = random();
        const max = 1 + Math.floor(random() * 50);
        if (roll < 0.15) delete json[node];
        else json[node] = roll < 0.3 ? [max, max + 2, max + 5] : max;
      }
      current = VersionVector.fromJSON(json).toJSON();
      return current;
    };
    const sender = new VersionCodec();
    const receiver = new VersionCodec();
    const hello: SyncMessage = { t: 'hello', protocols: [5], node: 'a', models: { [MODEL]: next() } };
    receiver.incoming(overTheWire(sender, hello));
    let compact = 0;
    for (let i = 0; i < 300; i++) {
      const since = next();
      const version = next();
      const message = [delta(since, version), ack(version), report(version)][i % 3]!;
      const wire = overTheWire(sender, message);
      if ('cv' in wire && wire.cv) compact++;
      const rebuilt = receiver.incoming(wire) as SyncMessage;
      expect(versionsOf(rebuilt), `message ${i}`).to.deep.equal(versionsOf(message));
      expect(rebuilt).to.not.have.property('cv');
    }
    expect(compact, 'most went compact').to.be.greaterThan(200);
  });

  it('goes compact only where that is shorter, and then names only what changed', () => {
    const sender = new VersionCodec();
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`device-${i}`, 5]));
    expect(sender.outgoing(ack({ a: 1, b: 2 }), true)).to.not.have.property('cv');
    expect(sender.outgoing(ack(many), true), 'nothing to compare with yet').to.not.have.property('cv');
    const next = { ...many, 'device-3': 6 };
    const out = sender.outgoing(delta(many, next), true) as SyncMessage & { cv: { v: object; s: object } };
    expect(out.cv.v).to.deep.equal({ 'device-3': 6 });
    expect(out.cv.s).to.deep.equal({ 'device-3': 5 });
    expect(sender.outgoing(ack(next), false), 'not without protocol 5').to.not.have.property('cv');
  });

  it('a base that went astray (a lost frame) drops compact versions, asks for a whole one now and then, and reads on after it', () => {
    const sender = new VersionCodec();
    const receiver = new VersionCodec();
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`device-${i}`, 5]));
    receiver.incoming(overTheWire(sender, report(many)));
    overTheWire(sender, ack({ ...many, 'device-1': 7 })); // lost on the way
    const asks = [8, 9, 10, 11, 12].map((seq) => receiver.incoming(overTheWire(sender, ack({ ...many, 'device-1': 7, 'device-2': seq }))));
    expect(asks).to.deep.equal([true, true, false, true, false].map((ask) => ({ astray: MODEL, ask })));
    // The peer asks for a whole version (sent whole itself); the answer goes whole and sets both sides right.
    const request = overTheWire(receiver, { t: 'version', model: MODEL, version: many, request: true, sent: 0, seen: 0, rebase: true });
    expect(request).to.not.have.property('cv');
    sender.incoming(request);
    const whole = { ...many, 'device-4': 9 };
    const answer = overTheWire(sender, report(whole));
    expect(answer).to.not.have.property('cv');
    expect(versionsOf(receiver.incoming(answer) as SyncMessage)).to.deep.equal(whole);
    const after = overTheWire(sender, ack({ ...whole, 'device-5': 6 }));
    expect(after).to.have.property('cv');
    expect(versionsOf(receiver.incoming(after) as SyncMessage)).to.deep.equal({ ...whole, 'device-5': 6 });
  });

  it('malformed compact versions are refused by the decoder', () => {
    const h = versionCheck({ a: 1 });
    expect(decodeCompactVersions({ v: { a: 1 }, h }, false)).to.deep.equal({ v: { a: 1 }, h });
    expect(decodeCompactVersions({ v: { a: 0 }, s: { a: 0 }, h }, true)).to.deep.equal({ v: { a: 0 }, s: { a: 0 }, h });
    expect(decodeCompactVersions([], false)).to.deep.equal({ error: 'cv must be an object' });
    expect(decodeCompactVersions({ v: { a: 1 }, h: 'xyz' }, false)).to.deep.equal({ error: 'cv: bad check' });
    expect(decodeCompactVersions({ v: { a: -1 }, h }, false)).to.have.property('error').that.matches(/^cv: v: /);
    expect(decodeCompactVersions({ v: {}, s: { a: [3, 2] }, h }, true)).to.have.property('error').that.matches(/^cv: s: /);
    expect(decodeCompactVersions({ v: {}, s: {}, h }, false)).to.deep.equal({ error: 'cv: s only belongs to a delta' });
    expect(decodeCompactVersions({ v: {}, h, extra: 1 }, false)).to.deep.equal({ error: 'cv has unknown fields' });
    const decode = (message: unknown) => decodeSyncMessage(encoder.encode(JSON.stringify(message)), 1_000_000);
    const batch = { format: 1, modelId: MODEL, since: {}, version: {}, changes: [] };
    expect(decode({ t: 'ack', model: MODEL, version: { a: 1 }, cv: { v: {}, h }, complete: true, seen: 0 })).to.deep.equal({ error: 'ack: version and cv together' });
    expect(decode({ t: 'delta', seq: 1, part: 1, parts: 1, batch: { ...batch, version: { a: 1 } }, cv: { v: {}, s: {}, h } })).to.deep.equal({
      error: 'delta: cv with a batch that has versions',
    });
  });

  describe('between engines', () => {
    let network: MemoryNetwork;
    beforeEach(() => {
      network = new MemoryNetwork();
    });
    afterEach(() => network.close());

    it('with 40 authors in the version, an edit travels with one version entry each way; an older peer gets whole versions', async () => {
      /** One edit of alice's to bob: the delta she sends and the bytes she gets back (the ack). */
      const measure = async (old: boolean) => {
        const alice = syncPeer(network, old ? 'alice-old' : 'alice');
        const bob = syncPeer(network, old ? 'bob-old' : 'bob');
        manyAuthors([alice, bob], 40);
        const fromAlice: Frame[] = [];
        await link(alice, bob, recording(fromAlice, old ? olderThan5 : undefined));
        await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'alice and bob in sync');
        const election = alice.model.entities('Election').first()!;
        fromAlice.length = 0;
        const before = alice.engine.totals.bytesReceived;
        alice.model.update(election.oid, { title: 'Board of trustees' });
        await until(() => canonical(bob) === canonical(alice) && inSyncWith(alice, bob) && inSyncWith(bob, alice), 'the edit arrived and was acknowledged');
        await settle();
        expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
        expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
        const sent = fromAlice.find((frame) => frame.t === 'delta')!;
        return { delta: sent, deltaBytes: JSON.stringify(sent).length, backBytes: alice.engine.totals.bytesReceived - before };
      };
      const compact = await measure(false);
      expect(compact.delta.cv, 'the delta carries compact versions').to.be.an('object');
      const cv = compact.delta.cv as { v: Record<string, unknown>; s: Record<string, unknown> };
      expect(Object.keys(cv.v)).to.deep.equal(['alice']);
      expect(Object.keys(cv.s)).to.deep.equal(['alice']);
      expect((compact.delta.batch as { version: object }).version).to.deep.equal({});
      const full = await measure(true);
      expect(full.delta.cv, 'an older peer gets whole versions').to.equal(undefined);
      expect(Object.keys((full.delta.batch as { version: object }).version)).to.have.length(41);
      expect(compact.deltaBytes * 3, `delta: compact ${compact.deltaBytes} B, whole ${full.deltaBytes} B`).to.be.lessThan(full.deltaBytes);
      expect(compact.backBytes * 3, `ack: compact ${compact.backBytes} B, whole ${full.backBytes} B`).to.be.lessThan(full.backBytes);
    });

    it('a compact version that does not add up drops its message and asks for a whole version; both sides converge without an offence', async () => {
      const alice = syncPeer(network, 'alice');
      const bob = syncPeer(network, 'bob');
      manyAuthors([alice, bob], 10);
      const fromBob: Frame[] = [];
      let spoil = false;
      const spoiling = (frame: Frame): Frame => {
        if (!spoil || frame.t !== 'delta' || !frame.cv) return frame;
        spoil = false;
        return { ...frame, cv: { ...(frame.cv as object), h: '0123456789abcdef' } };
      };
      await link(bob, alice, recording(fromBob, spoiling));
      await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'in sync');
      spoil = true;
      bob.model.createElection({ title: 'Treasurer' });
      await until(() => alice.warnings.some((warning) => warning.includes('do not add up')), 'alice dropped the delta');
      await until(() => canonical(alice) === canonical(bob) && inSyncWith(alice, bob) && inSyncWith(bob, alice), 'the edit arrived after all');
      expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
      expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
      // Compact versions go on after the whole one, and add up.
      fromBob.length = 0;
      bob.model.createElection({ title: 'Secretary' });
      await until(() => canonical(alice) === canonical(bob), 'the next edit');
      expect(fromBob.find((frame) => frame.t === 'delta')?.cv).to.be.an('object');
      expect(alice.warnings.filter((warning) => warning.includes('do not add up'))).to.have.length(1);
    });
  });
});
