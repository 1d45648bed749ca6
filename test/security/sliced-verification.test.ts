import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/version-vector.js';
import { type ChangeBatch, type WorkSlicer, decodeChangeBatch, isDecodeError } from '../../src/domain/index.js';
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
});
