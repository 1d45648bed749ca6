import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/version-vector.js';
import { CHANGE_FORMAT, type ChangeBatch, type ModelChange, type WorkSlicer, decodeChangeBatch, isDecodeError } from '../../src/domain/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { HASH_SLICE_FACTOR } from '../../src/security/change-certification.js';
import { ChangeCertification, forEachItem } from '../../src/security/index.js';
import { testIdentities } from './test-identities.js';

const MODEL = 'election';

describe('verifying a large batch a slice at a time', () => {
  const identities = testIdentities('sliced-verification', ['alice', 'bob']);

  /** Alice's model of `voters` voters as a decoded whole-state batch, with her certificates. */
  async function signedBatch(voters: number): Promise<{ batch: ChangeBatch; certificates: string[]; items: number }> {
    const alice = identities[0]!;
    const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: alice.newNodeId(), roles: 'open' });
    for (let i = 0; i < voters; i++) model.registerVoter({ name: `Voter ${i}`, voterNumber: `V${i}` });
    const changes = model.getChangesSince(new VersionVector());
    const certification = new ChangeCertification(alice);
    await certification.certify(MODEL, changes);
    const batch = decodeChangeBatch(JSON.parse(JSON.stringify(model.getDelta(new VersionVector()))));
    if (isDecodeError(batch)) throw new Error(batch.error);
    let items = 0;
    for (const change of batch.changes) forEachItem(change, () => items++);
    return { batch, certificates: certification.certificatesFor(MODEL, changes), items };
  }

  it('pauses after every slice of hashed items and finds the same as verifying at once', async () => {
    const { batch, certificates, items } = await signedBatch(500);
    let pauses = 0;
    const slicer: WorkSlicer = {
      itemsPerSlice: 100,
      pause: () => {
        pauses++;
        return new Promise((resolve) => setTimeout(resolve, 0));
      },
    };
    const sliced = await new ChangeCertification(identities[1]!).verify(MODEL, batch, certificates, slicer);
    const whole = await new ChangeCertification(identities[1]!).verify(MODEL, batch, certificates);
    expect(sliced).to.include({ ok: true });
    expect(sliced.problems).to.deep.equal(whole.problems);
    // One pause after each full slice of hashed items (a change's items are never split), none at the end.
    expect(pauses).to.equal(Math.ceil(items / (100 * HASH_SLICE_FACTOR)) - 1);
    expect(pauses).to.be.greaterThan(0);
  });

  it('keeps certificates slice by slice as keeping them at once does, each once', async () => {
    const { batch, certificates } = await signedBatch(500);
    const byRange = new ChangeCertification(identities[1]!);
    const verified = await byRange.verify(MODEL, batch, certificates);
    let added = 0;
    byRange.store(MODEL).onAdded((certificates) => (added += certificates.length));
    const step = 90;
    for (let from = 0; from < batch.changes.length; from += step) verified.keep(new Set(), { from, to: from + step });
    const atOnce = new ChangeCertification(identities[1]!);
    (await atOnce.verify(MODEL, batch, certificates)).keep(new Set());
    expect(byRange.store(MODEL).size).to.equal(atOnce.store(MODEL).size);
    expect(added).to.equal(atOnce.store(MODEL).size);
    // Only the certificates of a slice's items: after the first slice, not all of them.
    const partly = new ChangeCertification(identities[1]!);
    (await partly.verify(MODEL, batch, certificates)).keep(new Set(), { from: 0, to: step });
    expect(partly.store(MODEL).size).to.be.greaterThan(0).and.lessThan(atOnce.store(MODEL).size);
  });

  it('finds the items of certificates sent without hash lists whether an author\'s seqs are dense or far apart', async () => {
    const [alice, bob] = [identities[0]!, identities[1]!];
    const node = alice.newNodeId();
    const write = (oid: string, seq: number): ModelChange => ({
      kind: 'attribute',
      entityType: 'Voter',
      oid,
      attribute: 'name',
      writes: [{ value: `name ${seq}`, ts: { ms: seq, c: 0 }, dot: { node, seq } }],
    });
    for (const seqs of [[1, 2, 3], [3, 5_000_000, 9_000_000_000]]) {
      const changes = seqs.map((seq, i) => write(`v${i}`, seq));
      const signer = new ChangeCertification(alice);
      await signer.certify(MODEL, changes);
      const certificates = signer.certificatesFor(MODEL, changes);
      const version = new VersionVector();
      for (const seq of seqs) version.update(node, seq);
      const batch: ChangeBatch = { format: CHANGE_FORMAT, modelId: MODEL, since: {}, version: version.toJSON(), changes };
      const verified = await new ChangeCertification(bob).verify(MODEL, batch, certificates);
      expect(verified.problems, `seqs ${seqs.join(', ')}`).to.deep.equal([]);
      // The same certificates for a delta lacking one of the items are refused.
      const short = await new ChangeCertification(bob).verify(MODEL, { ...batch, changes: changes.slice(1), partial: true }, certificates);
      expect(short.ok).to.equal(false);
      expect(short.problems.join('\n')).to.include('but the delta lacks it');
    }
  });
});
