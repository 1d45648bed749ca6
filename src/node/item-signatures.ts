import type { Dot, NodeId } from '../crdt/index.js';
import type { ModelChange } from '../domain/index.js';
import type { CertificateStore } from '../security/certificate-store.js';
import { forEachItem } from '../security/change-items.js';

/** What this device can say about the signature of a group of items. */
export const SignatureState = {
  /** Every item is listed, with its exact hash, in a certificate made here or verified on arrival. */
  valid: 'valid',
  /** A certificate lists the item's dot with another hash: the item is not what its author signed. */
  invalid: 'invalid',
  /** No certificate: from before signing, or from storage that kept none. */
  missing: 'missing',
  /** This device's own item, its certificate still being made. */
  pending: 'pending',
} as const;
export type SignatureState = (typeof SignatureState)[keyof typeof SignatureState];

// Worst first: a group is as trustworthy as its least trustworthy item.
const RANK: Record<SignatureState, number> = { invalid: 0, missing: 1, pending: 2, valid: 3 };

/**
 * The signatures one model's items have on this device, as the node answers them to views (which
 * never read certificates themselves): from the model's certificate store, with this device's own
 * items still being certified counted as pending.
 */
export class ItemSignatures {
  constructor(
    private readonly store: CertificateStore,
    private readonly ownsNode: (node: NodeId) => boolean,
  ) {}

  /** The state of a group of changes' items: the worst of theirs (valid for none). */
  stateOf(changes: Iterable<ModelChange>): SignatureState {
    let worst: SignatureState = SignatureState.valid;
    for (const change of changes)
      forEachItem(change, (dot: Dot, hash) => {
        const state = !this.store.certificateOf(dot)
          ? this.ownsNode(dot.node)
            ? SignatureState.pending
            : SignatureState.missing
          : this.store.vouchesFor(dot, hash)
            ? SignatureState.valid
            : SignatureState.invalid;
        if (RANK[state] < RANK[worst]) worst = state;
      });
    return worst;
  }

  /** Calls `listener` when certificates arrive (an own write's, made after the write, included). */
  onChange(listener: () => void): () => void {
    return this.store.onAdded(() => listener());
  }
}
