import type { NodeId } from '../../crdt/index.js';
import type { CertificateStore } from '../../security/certificate-store.js';
import { forEachItem } from '../../security/change-items.js';
import type { AuditItem } from './election-activity.js';

/** What the audit view can say about the signatures of an entry's items. */
export const SignatureState = {
  /** Every item is listed, with its exact hash, in a certificate made here or verified on arrival. */
  valid: 'valid',
  /** A certificate lists the item's dot with another hash: the item is not what its author signed. */
  invalid: 'invalid',
  /** No certificate: from before signing, or from storage that kept none. */
  missing: 'missing',
  /** This device's own item, its certificate still being made. */
  pending: 'pending',
  /** Signing is off for this room. */
  off: 'off',
} as const;
export type SignatureState = (typeof SignatureState)[keyof typeof SignatureState];

/** What the view needs of the sync engine's `ChangeCertification`. */
export interface SignatureSource {
  store(modelId: string): CertificateStore;
  readonly signer: { ownsNodeId(node: unknown): boolean };
}

// Worst first: an entry is as trustworthy as its least trustworthy item.
const RANK: Record<SignatureState, number> = { invalid: 0, missing: 1, pending: 2, valid: 3, off: 4 };

/** The signature state of a group of items: the worst of theirs. */
export function signatureOf(items: readonly AuditItem[], store: CertificateStore | undefined, ownsNode: (node: NodeId) => boolean): SignatureState {
  if (!store) return SignatureState.off;
  let worst: SignatureState = SignatureState.valid;
  for (const { change } of items)
    forEachItem(change, (dot, hash) => {
      const state = !store.certificateOf(dot)
        ? ownsNode(dot.node)
          ? SignatureState.pending
          : SignatureState.missing
        : store.vouchesFor(dot, hash)
          ? SignatureState.valid
          : SignatureState.invalid;
      if (RANK[state] < RANK[worst]) worst = state;
    });
  return worst;
}
