import type { CausalContext, Dot } from '../../crdt/index.js';
import { type CRDTEntity, DELETED, type DomainModel, ownerOf } from '../../domain/index.js';

/*
 * A closed round is decided from the state its closing device had seen, never from what came
 * after: the closing's causal context says which writes it had received, so every replica can set
 * aside, from state alone, a candidate removed, a voter un-approved, a ballot deleted or a grant
 * revoked after the close. Creations after the close are simply not covered by the context.
 * Deletions leave their register behind (entities are never dropped), so a deletion or restore the
 * closing had not seen is set aside too: the register keeps only its latest write, and the one
 * before it held the other value (delete and restore each refuse to repeat themselves).
 */

/** How an entity stood for a device that had seen `context`. */
export interface StandingAt {
  /** The device had received at least one of its writes. */
  readonly existed: boolean;
  /** It was deleted as far as that device knew. */
  readonly deleted: boolean;
  /** Its deletion or restoration came after (or concurrently with) the context: set aside. */
  readonly changedAfter: boolean;
}

/** How `entity` stood for a device whose causal context was `context` (see the module comment). */
export function standingAt(entity: CRDTEntity, context: CausalContext): StandingAt {
  const state = entity.toState();
  let existed = false;
  for (const [attribute, writes] of Object.entries(state.attributes))
    if (attribute !== DELETED && writes.some((write) => context.covers(write.dot))) existed = true;
  const deletion = state.attributes[DELETED] ?? [];
  const current = deletion.some((write) => write.value === true);
  if (deletion.every((write) => context.covers(write.dot))) return { existed, deleted: current, changedAfter: false };
  return { existed, deleted: !current, changedAfter: true };
}

/** True if the entity was there and not deleted for a device whose context was `context`. */
export function liveAt(entity: CRDTEntity, context: CausalContext): boolean {
  const standing = standingAt(entity, context);
  return standing.existed && !standing.deleted;
}

/** The children of `relation` the device had seen added (their removal leaves no trace, see `lostAfter`). */
export function childrenAt(entity: CRDTEntity, relation: string, context: CausalContext): string[] {
  const items = entity.toState().children[relation] ?? [];
  return items.filter(([, dots]) => dots.some((dot: Dot) => context.covers(dot))).map(([child]) => child);
}

/** True if `relation` lost children by a removal the device had not seen (a removal mark outside its context). */
export function lostAfter(entity: CRDTEntity, relation: string, context: CausalContext): boolean {
  return (entity.toState().removals?.[relation] ?? []).some((mark) => !context.covers(mark));
}

/** The entities of `concept` for the election (deleted ones too, in oid order). */
export function everyOf(model: DomainModel, concept: string, electionId: string): CRDTEntity[] {
  return [...model.entities(concept, { includeDeleted: true })]
    .filter((entity) => entity.getAttribute('election') === electionId)
    .sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
}

/** The election's co-organisers for a device whose context was `context`: grants by the organiser it had seen live. */
export function coOrganisersAt(model: DomainModel, election: CRDTEntity, context: CausalContext): Set<string> {
  const organiser = ownerOf(election.oid);
  const devices = new Set<string>();
  for (const grant of everyOf(model, 'CoOrganiser', election.oid)) {
    const device = grant.getAttribute('device');
    if (ownerOf(grant.oid) === organiser && typeof device === 'string' && device !== organiser && liveAt(grant, context)) devices.add(device);
  }
  return devices;
}

/** Who could vote and for whom, as a round's closing device had seen it. */
export interface ClosedRoundAuthority {
  readonly coOrganisers: ReadonlySet<string>;
  readonly standing: ReadonlyMap<string, CRDTEntity>;
  readonly approved: ReadonlySet<string>;
  /** Changes made after the close that the tally set aside, in words (shown with the result). */
  readonly setAside: readonly string[];
}

/**
 * Candidates standing and voters approved as the closing device (context `context`) had seen
 * them, with roles enforced. A removal from the organiser's `candidates` relation the closing had
 * not seen leaves no trace of what it removed, so then every candidate the organiser had added by
 * the close and not deleted stands (its own operations never remove one after a draft).
 */
export function closedRoundAuthority(model: DomainModel, election: CRDTEntity, context: CausalContext): ClosedRoundAuthority {
  const organiser = ownerOf(election.oid);
  const coOrganisers = coOrganisersAt(model, election, context);
  const setAside: string[] = [];
  const note = (entity: CRDTEntity, what: string) => {
    if (standingAt(entity, context).changedAfter) setAside.push(`${what} was ${entity.isDeleted ? 'deleted' : 'restored'} after voting closed`);
  };
  const named = (oid: unknown) => {
    const name = typeof oid === 'string' ? model.get(oid, { includeDeleted: true })?.getAttribute('name') : undefined;
    return typeof name === 'string' && name ? `“${name}”` : 'a voter';
  };
  const inRelation = new Set(childrenAt(election, 'candidates', context));
  const relationLost = lostAfter(election, 'candidates', context);
  if (relationLost) setAside.push('candidates were removed from the election after voting closed');
  const standing = new Map<string, CRDTEntity>();
  const candidates = everyOf(model, 'Candidate', election.oid);
  const byOrganiser = candidates.filter((c) => ownerOf(c.oid) === organiser);
  // The organiser's in relation order first, as `standingCandidatesOf` lists them.
  const order = [...election.childOids('candidates'), ...byOrganiser.map((c) => c.oid)];
  for (const oid of order) {
    const candidate = byOrganiser.find((c) => c.oid === oid);
    if (!candidate || standing.has(oid) || !(inRelation.has(oid) || relationLost)) continue;
    note(candidate, `the candidate ${named(oid)}`);
    if (liveAt(candidate, context)) standing.set(oid, candidate);
  }
  for (const candidate of candidates) {
    if (!coOrganisers.has(ownerOf(candidate.oid) ?? '')) continue;
    note(candidate, `the candidate ${named(candidate.oid)}`);
    if (liveAt(candidate, context)) standing.set(candidate.oid, candidate);
  }
  const approved = new Set(childrenAt(election, 'approvedVoters', context));
  if (lostAfter(election, 'approvedVoters', context)) setAside.push('approvals were withdrawn from the election’s old approval list after voting closed');
  const approvers = new Set([...coOrganisers, ...(organiser ? [organiser] : [])]);
  for (const approval of everyOf(model, 'Approval', election.oid)) {
    const voter = approval.getAttribute('voter');
    if (typeof voter !== 'string' || !approvers.has(ownerOf(approval.oid) ?? '')) continue;
    note(approval, `the approval of ${named(voter)}`);
    if (liveAt(approval, context)) approved.add(voter);
  }
  return { coOrganisers, standing, approved, setAside };
}
