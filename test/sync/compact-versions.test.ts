import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { compactVersions, decodeCompactVersions, expandVersions, isShorter, versionCheck } from '../../src/sync/compact-versions.js';
import { decodeSyncMessage } from '../../src/sync/index.js';
import { MODEL, type SyncPeer, canonical, eventsOf, inSyncWith, link, settle, syncPeer, throughHooks, until } from './sync-peers.js';

type Frame = Record<string, unknown>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const parse = (bytes: Uint8Array): Frame => JSON.parse(decoder.decode(bytes)) as Frame;
const vv = (json: Record<string, number | number[]>) => VersionVector.fromJSON(json);

/** `count` other devices each wrote one election, and `peers` hold all of it: version vectors of count + 1 entries. */
function manyAuthors(peers: readonly SyncPeer[], count: number): void {
  for (let i = 0; i < count; i++) {
    const author = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId(`writer-${i}`), roles: 'open' });
    author.createElection({ title: `Election ${i}` });
    for (const peer of peers) expect(peer.model.applyChanges(author.getDelta(new VersionVector())).rejected).to.deep.equal([]);
  }
}

/** Records the frames an engine sends on a link; `rewrite` may replace one before it leaves, `incoming` one before the engine gets it. */
function recording(sent: Frame[], rewrite: (frame: Frame) => Frame = (frame) => frame, incoming: (frame: Frame) => Frame = (frame) => frame) {
  return (connection: PeerConnection): PeerConnection =>
    throughHooks(
      connection,
      (bytes) => {
        const frame = rewrite(parse(bytes));
        sent.push(frame);
        return encoder.encode(JSON.stringify(frame));
      },
      (bytes) => encoder.encode(JSON.stringify(incoming(parse(bytes)))),
    );
}

/** A hello offering only protocols before 5 (an older build). */
const olderThan5 = (frame: Frame): Frame => (frame.t === 'hello' ? { ...frame, protocols: (frame.protocols as number[]).filter((p) => p < 5) } : frame);

/** A peer written by hand: it speaks the given protocols and keeps what it gets. */
async function handPeer(network: MemoryNetwork, target: SyncPeer, protocols: number[], models: Record<string, unknown> = { [MODEL]: {} }) {
  const transport = new MemoryTransport(network, asNodeId('dora'), { logger: { warn: () => {} } });
  const connection = await transport.connect(target.id);
  const received: Frame[] = [];
  connection.onMessage((bytes) => received.push(parse(bytes)));
  const send = async (message: unknown) => {
    await connection.send(encoder.encode(JSON.stringify(message)));
    await settle();
  };
  await send({ t: 'hello', protocols, node: 'dora', models });
  return { received, send };
}

describe('compact versions (sync protocol 5)', () => {
  it('a version and a since come back exactly from their differences, gaps and missing entries included', () => {
    const told = vv({ a: 3, b: [2, 5], c: 1 });
    const version = vv({ a: 4, b: [2, 5], c: 1, d: 2 });
    const since = vv({ a: 3, b: 1, e: 7 });
    const compact = compactVersions(version, told, since)!;
    expect(compact.v).to.deep.equal({ a: 4, d: 2 });
    expect(compact.s).to.deep.equal({ a: 3, b: 1, c: 0, d: 0, e: 7 });
    const expanded = expandVersions(compact, told);
    expect(expanded).to.not.equal('mismatch');
    const { version: back, since: sinceBack } = expanded as { version: VersionVector; since: VersionVector };
    expect(back.toJSON()).to.deep.equal(version.toJSON());
    expect(sinceBack.toJSON()).to.deep.equal(since.toJSON());
  });

  it('a base that went astray is caught by the check, and a version below what was told goes in full', () => {
    const told = vv({ a: 3, b: 2 });
    const compact = compactVersions(vv({ a: 4, b: 2 }), told)!;
    expect(compact.v).to.deep.equal({ a: 4 });
    // The receiver missed the claim of b: 2 (a lost frame): rebuilt, the version would be wrong.
    expect(expandVersions(compact, vv({ a: 3, b: 1 }))).to.equal('mismatch');
    expect(expandVersions(compact, undefined)).to.equal('mismatch');
    // A delta capped below an earlier claim (items still being signed): no compact form.
    expect(compactVersions(vv({ a: 2, b: 2 }), told)).to.equal(undefined);
    expect(compactVersions(vv({ a: 4 }), undefined)).to.equal(undefined);
  });

  it('the compact form goes only where it is shorter than the whole versions', () => {
    const few = vv({ a: 3, b: 2 });
    expect(isShorter(compactVersions(vv({ a: 4, b: 2 }), few, few)!, vv({ a: 4, b: 2 }), few)).to.equal(false);
    const many = vv(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`device-${i}`, 5])));
    const next = many.clone();
    next.add({ node: asNodeId('device-0'), seq: 6 });
    expect(isShorter(compactVersions(next, many, many)!, next, many)).to.equal(true);
  });

  it('malformed compact versions are refused by the decoder', () => {
    const h = versionCheck(vv({ a: 1 }));
    expect(decodeCompactVersions({ v: { a: 1 }, h }, false)).to.deep.equal({ v: { a: 1 }, h });
    expect(decodeCompactVersions({ v: { a: 1 }, s: { a: 0 }, h }, true)).to.deep.equal({ v: { a: 1 }, s: { a: 0 }, h });
    expect(decodeCompactVersions([], false)).to.deep.equal({ error: 'cv must be an object' });
    expect(decodeCompactVersions({ v: { a: 1 }, h: 'xyz' }, false)).to.deep.equal({ error: 'cv: bad check' });
    expect(decodeCompactVersions({ v: { a: -1 }, h }, false)).to.have.property('error').that.matches(/^cv: v: /);
    expect(decodeCompactVersions({ v: {}, s: { a: [3, 2] }, h }, true)).to.have.property('error').that.matches(/^cv: s: /);
    expect(decodeCompactVersions({ v: {}, s: {}, h }, false)).to.deep.equal({ error: 'cv: s only belongs to a delta' });
    expect(decodeCompactVersions({ v: {}, h, extra: 1 }, false)).to.deep.equal({ error: 'cv has unknown fields' });
    const decode = (message: unknown) => decodeSyncMessage(encoder.encode(JSON.stringify(message)), 1_000_000);
    const batch = { format: 1, modelId: MODEL, since: {}, version: {}, changes: [] };
    expect(decode({ t: 'ack', model: MODEL, version: {}, cv: { v: {}, h }, complete: true, seen: 0 })).to.deep.equal({ error: 'ack: version and cv together' });
    expect(decode({ t: 'delta', seq: 1, part: 1, parts: 1, batch: { ...batch, version: { a: 1 } }, cv: { v: {}, s: {}, h } })).to.deep.equal({ error: 'delta: cv with a batch that has versions' });
    expect(decode({ t: 'version', model: MODEL, version: {}, request: false, sent: 0, seen: 0, rebase: true })).to.deep.equal({ error: 'version: rebase must be true, on a request' });
    expect(decode({ t: 'ack', model: MODEL, cv: { v: { a: 2 }, h }, complete: true, seen: 0 })).to.deep.equal({ t: 'ack', model: MODEL, version: {}, complete: true, seen: 0, cv: { v: { a: 2 }, h } });
  });

  describe('between engines', () => {
    let network: MemoryNetwork;
    beforeEach(() => {
      network = new MemoryNetwork();
    });
    afterEach(() => network.close());

    it('with 40 authors in the version, an edit travels with one version entry each way, not 41', async () => {
      /** One edit of alice's to bob: the delta she sends and the bytes she gets back (the ack). */
      const measure = async (old: boolean) => {
        const alice = syncPeer(network, old ? 'alice-old' : 'alice');
        const bob = syncPeer(network, old ? 'bob-old' : 'bob');
        manyAuthors([alice, bob], 40);
        const fromAlice: Frame[] = [];
        await link(alice, bob, recording(fromAlice, old ? olderThan5 : undefined, old ? olderThan5 : undefined));
        await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'alice and bob in sync');
        const election = alice.model.entities('Election').first()!;
        fromAlice.length = 0;
        const before = alice.engine.totals.bytesReceived;
        alice.model.update(election.oid, { title: 'Board of trustees' });
        await until(() => canonical(bob) === canonical(alice) && inSyncWith(alice, bob) && inSyncWith(bob, alice), 'the edit arrived and was acknowledged');
        await settle();
        expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
        expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
        const delta = fromAlice.find((frame) => frame.t === 'delta')!;
        return { delta, deltaBytes: JSON.stringify(delta).length, backBytes: alice.engine.totals.bytesReceived - before };
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

    it('acks come back compact too: one version entry for one new change', async () => {
      const alice = syncPeer(network, 'alice');
      const bob = syncPeer(network, 'bob');
      manyAuthors([alice, bob], 20);
      const fromBob: Frame[] = [];
      await link(bob, alice, recording(fromBob));
      await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'in sync');
      fromBob.length = 0;
      alice.model.createElection({ title: 'Treasurer' });
      await until(() => fromBob.some((frame) => frame.t === 'ack'), 'bob acknowledged');
      const ack = fromBob.find((frame) => frame.t === 'ack')!;
      expect(ack.version).to.equal(undefined);
      expect(Object.keys((ack.cv as { v: object }).v)).to.deep.equal(['alice']);
      await until(() => inSyncWith(alice, bob), 'alice sees bob in sync from the compact ack');
    });

    it('after a lost frame the check fails, the receiver asks for a whole version, and both sides converge without an offence', async () => {
      const alice = syncPeer(network, 'alice');
      const bob = syncPeer(network, 'bob');
      manyAuthors([alice, bob], 5);
      const fromBob: Frame[] = [];
      let lose = false;
      // One of bob's acks is "lost": it arrives as an ack for a model alice does not hold, which she ignores.
      const losing = (frame: Frame): Frame => {
        if (!lose || frame.t !== 'ack') return frame;
        lose = false;
        return { ...frame, model: 'elsewhere' };
      };
      await link(bob, alice, recording(fromBob, losing));
      await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'in sync');
      // Bob's claim of alice's edit never reaches alice, so her base for bob's versions lags.
      lose = true;
      const election = alice.model.createElection({ title: 'Board' });
      await until(() => !lose && canonical(bob) === canonical(alice), 'the edit reached bob, the ack was lost');
      await settle();
      fromBob.length = 0;
      // Bob's next delta is a difference from a claim alice never got: it cannot add up.
      bob.model.update(election.oid, { title: 'Board of trustees' });
      await until(() => canonical(bob) === canonical(alice), 'bob’s edit reached alice after the rebase');
      expect(alice.warnings.some((warning) => warning.includes('do not add up'))).to.equal(true);
      // Bob answered the rebase with his whole version before the delta.
      const answer = fromBob.findIndex((frame) => frame.t === 'version' && frame.request === false);
      expect(answer).to.be.greaterThan(-1);
      expect(fromBob.slice(answer + 1).some((frame) => frame.t === 'delta')).to.equal(true);
      await until(() => inSyncWith(alice, bob) && inSyncWith(bob, alice), 'in sync again');
      expect(eventsOf(alice, 'peer-offence')).to.deep.equal([]);
      expect(eventsOf(bob, 'peer-offence')).to.deep.equal([]);
      // Compact versions are used again after the rebase, and add up.
      fromBob.length = 0;
      bob.model.update(election.oid, { title: 'Board of governors' });
      await until(() => canonical(bob) === canonical(alice), 'the next edit');
      expect(fromBob.find((frame) => frame.t === 'delta')?.cv).to.be.an('object');
      expect(alice.warnings.filter((warning) => warning.includes('do not add up'))).to.have.length(1);
    });

    it('compact versions from a peer without protocol 5, or a rebase, are offences; a check that fails changes nothing and asks for a whole version', async () => {
      const alice = syncPeer(network, 'alice');
      const writer = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('dora'), roles: 'open' });
      writer.createElection({ title: 'Dora’s' });
      const batch = writer.getDelta(new VersionVector());
      const version = writer.version;
      const compactDelta = (h: string) => ({ t: 'delta', seq: 1, part: 1, parts: 1, batch: { ...batch, since: {}, version: {} }, cv: { v: version.toJSON(), s: { dora: 0 }, h } });

      const old = await handPeer(network, alice, [1, 2, 3, 4]);
      await old.send(compactDelta(versionCheck(version)));
      await old.send({ t: 'version', model: MODEL, version: {}, request: true, sent: 0, seen: 0, rebase: true });
      expect(eventsOf(alice, 'peer-offence').map((event) => event.reason)).to.deep.equal(['delta: compact versions without protocol 5', 'version: rebase without protocol 5']);
      expect(alice.model.entities('Election').count).to.equal(0);
      network.close();

      network = new MemoryNetwork();
      const carol = syncPeer(network, 'carol');
      const dora = await handPeer(network, carol, [5]);
      dora.received.length = 0;
      await dora.send(compactDelta('0123456789abcdef'));
      expect(carol.model.entities('Election').count, 'nothing applied').to.equal(0);
      expect(eventsOf(carol, 'peer-offence')).to.deep.equal([]);
      expect(dora.received.map((frame) => [frame.t, frame.request, frame.rebase, frame.seen])).to.deep.equal([['version', true, true, 1]]);
      // With the right check the same delta is taken.
      await dora.send({ ...compactDelta(versionCheck(version)), seq: 2 });
      expect(carol.model.entities('Election').count).to.equal(1);
      expect(carol.model.version.toJSON()).to.deep.equal(version.toJSON());
      expect(eventsOf(carol, 'peer-offence')).to.deep.equal([]);
    });
  });
});
