import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import { fromBase64Url } from '../../src/util/base64url.js';
import { decodeSentCertificate, isCertificateError } from '../../src/security/change-certificate.js';
import { ChangeCertification } from '../../src/security/change-certification.js';
import { library } from '../domain/library-schema.js';
import { testIdentities } from '../security/test-identities.js';

// Found by the fault simulation (docs/fault-simulation.md, seed 463 of the storage-failures profile,
// signed): a version's frontier proof was the author's highest certificate, which on the author's
// own device may sign operations not stored yet. A crash then lost those operations, the restarted
// device used their seqs again for other operations, and every peer holding the proof counted that
// as equivocation (offences, and the new operations refused: replicas never converged).
describe('ChangeCertification: the proof of a claimed seq', () => {
  const identities = testIdentities('frontier-proof', ['alice']);

  it('signs nothing past the claimed seq that it need not', async () => {
    const identity = identities[0]!;
    const certification = new ChangeCertification(identity);
    const model = library(identity.newNodeId());
    const book = model.create('Book', { title: 'Stored' }).oid;
    const stored = model.version;
    await certification.certify('library', model.getChangesSince(new VersionVector()), model.version);
    // A later edit, signed but (say) not stored yet: the version claimed stays `stored`.
    model.update(book, { title: 'Not stored yet' });
    await certification.certify('library', model.getChangesSince(stored), model.version);
    expect(certification.store('library').frontier(model.nodeId)).to.be.greaterThan(stored.maxSeen(model.nodeId));

    const proofs = certification.frontierProofs('library', stored, new VersionVector(), new Map());
    expect(proofs).to.have.lengthOf(1);
    const proof = decodeSentCertificate(fromBase64Url(proofs[0]!)!);
    if (isCertificateError(proof)) throw new Error(proof.error);
    expect(Math.max(...proof.seqs), 'the proof signs a seq past the claim').to.equal(stored.maxSeen(model.nodeId));
  });
});
