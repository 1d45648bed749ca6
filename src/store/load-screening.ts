import type { Dot, NodeId } from '../crdt/dot.js';
import type { VersionVector } from '../crdt/version-vector.js';
import type { ApplyChangesResult, EntityState } from '../domain/model-change.js';
import { type ClaimsToForget, type QuarantineRequest, claimsOf, forgetClaims, highestStoredSeq, joinClaims, keepClaimsOf, uncertifiedClaims } from './quarantine.js';
import type { StoredModel } from './storage-adapter.js';

/** What `screenLoad` needs of the model. */
export interface ScreenedModel {
  readonly nodeId: NodeId;
  loadState(entities: readonly EntityState[], version: VersionVector): Pick<ApplyChangesResult, 'rejected'>;
  markOwnSequenceUsedUpTo(seq: number): void;
}

/** The records of a load to keep aside, and the stored version's claims given up with them. */
export interface LoadScreening {
  readonly requests: readonly QuarantineRequest[];
  readonly forget: ClaimsToForget;
}

/**
 * Joins `stored` into `model`, leaving out every record that cannot be read, and makes the model
 * adopt the stored version less the claims of what was left out, so peers send it again (a version
 * that claims less than the state holds costs a record sent twice; one that claims a dot no record
 * holds loses that dot for good).
 *
 * - Records the adapter could not hand out (`stored.damaged`): an entity of the wrong shape or a
 *   damaged version gives up every claim (which dots it held cannot be known).
 * - Entities the model refuses (unknown concept, wrong value type, a string over the cap): each
 *   node's claims from the lowest dot they hold, or all if their dots cannot be read.
 * - Certificates that do not decode (`malformed`), with `certified` (signed rooms): the claims of
 *   other authors' items no loaded certificate vouches for, so peers send them with theirs.
 */
export function screenLoad(
  model: ScreenedModel,
  stored: StoredModel,
  malformed: ReadonlyArray<{ readonly bytes: Uint8Array; readonly reason: string }>,
  certified: ((dot: Dot) => boolean) | undefined,
  forgetOwn: boolean,
): LoadScreening {
  // Own claims are the model's record of own seqs used: given up only if a reservation keeps the
  // model above them anyway (`forgetOwn`), else a new write could reuse a seq a peer holds.
  const limit = (claims: ClaimsToForget): ClaimsToForget => (forgetOwn ? claims : keepClaimsOf(claims, model.nodeId, stored.version));
  const damaged = stored.damaged ?? [];
  const requests: QuarantineRequest[] = damaged.map(({ kind, key, reason, value, chunk, log }) => ({
    kind,
    key,
    reason,
    value,
    ...(chunk === undefined ? {} : { chunk }),
    ...(log === undefined ? {} : { log }),
  }));
  for (const { bytes, reason } of malformed) requests.push({ kind: 'certificate', bytes, reason, value: bytes });
  let forget: ClaimsToForget = damaged.some((record) => record.kind !== 'certificate') ? 'all' : new Map();
  const lostCertificates = malformed.length > 0 || damaged.some((record) => record.kind === 'certificate');
  if (lostCertificates && certified) forget = joinClaims(forget, uncertifiedClaims(stored.entities, certified, model.nodeId));
  forget = limit(forget);
  // Without the stored version, the stored own dots are the only record of own seqs used.
  if (!forgetOwn && damaged.some((record) => record.kind === 'version')) model.markOwnSequenceUsedUpTo(highestStoredSeq(model.nodeId, [], stored.entities));
  const { rejected } = model.loadState(stored.entities, forgetClaims(stored.version.clone(), forget));
  if (!rejected.length) return { requests, forget };
  // The model joined the rest and adopted nothing: adopt the version without the refused ones' claims.
  forget = limit(joinClaims(forget, claimsOf(rejected.map((refused) => refused.change))));
  for (const { change, reason } of rejected) requests.push({ kind: 'entity', key: (change as EntityState).oid, reason, value: change });
  model.loadState([], forgetClaims(stored.version.clone(), forget));
  return { requests, forget };
}
