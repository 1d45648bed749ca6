import { type Dot, VersionVector } from '../../crdt/index.js';
import { type CRDTEntity, DELETED, type DomainModel, ownerOf } from '../../domain/index.js';
import { coOrganisersAt, everyOf } from './as-of-close.js';
import { ElectionRoles, ElectionStatus, VotingAction } from './electoral-schema.js';

/*
 * When voting was open, decided from causality, never from clocks. Every opening and closing is a
 * `VotingEvent` that carries the causal context (version vector) of the device that made it, so
 * "this ballot was cast while voting was open" becomes "the ballot names the opening it saw, and
 * the closing device had received it when it closed": facts a hostile voter cannot backdate. The
 * events are put in one order every replica computes alike (causal order, ties by rank then oid)
 * and folded into rounds: open → close, and, after the organiser reopens, open → close again.
 */

/** What became of a voting event in the history. */
export const VotingEventEffect = {
  /** It opened (or reopened) voting: a round starts. */
  opened: 'opened',
  /** An opening made concurrently with the round's first one: it opened the same round. */
  joined: 'joined',
  /** It closed the round. */
  closed: 'closed',
  /** It changed nothing (see `detail`): voting was already open or closed, or it raced an event that decides. */
  ignored: 'ignored',
  /** Its maker may not open or close this election: a member's own event, or a revoked co-organiser's. */
  notAuthorised: 'not-authorised',
  /** Its causal context is missing or cannot be true. */
  malformed: 'malformed',
  /** It publishes the key of a round's sealed ballots. */
  keyPublished: 'key-published',
} as const;
export type VotingEventEffect = (typeof VotingEventEffect)[keyof typeof VotingEventEffect];

/** One voting event as the history read it. */
export interface VotingEventRecord {
  readonly event: CRDTEntity;
  readonly action: VotingAction;
  /** The time its maker claims (shown, never decisive). */
  readonly at: string;
  /** The device that made it. */
  readonly device: string | undefined;
  readonly effect: VotingEventEffect;
  /** Why, in words, where it did not simply open or close. */
  readonly detail?: string;
}

/** One period of open voting. */
export interface VotingRound {
  /** The round's openings: the first one decides, the others were made concurrently with it. */
  readonly openings: readonly CRDTEntity[];
  /** The closing that ended it, or null while it is open. */
  readonly close: CRDTEntity | null;
  /** What the closing device had seen when it closed (null while open). */
  readonly closeContext: VersionVector | null;
  /** The public key ballots of this round are sealed to (base64url), if the round is sealed. */
  readonly sealKey: string | null;
  /** The private key the opening device published after the close, if it did; several if it published differing ones. */
  readonly publishedKeys: readonly string[];
}

/** The election's voting history: its rounds, every event with its effect, and the status that follows. */
export interface VotingHistory {
  readonly status: ElectionStatus;
  readonly rounds: readonly VotingRound[];
  /** Every voting event of the election, in the order the history took them. */
  readonly events: readonly VotingEventRecord[];
  /** When the first round opened, as its opening claims. */
  readonly openedAt: string | null;
  /** When the last round closed, as its closing claims (null while open or never closed). */
  readonly closedAt: string | null;
}

interface Parsed {
  readonly entity: CRDTEntity;
  readonly action: VotingAction;
  readonly at: string;
  readonly device: string | undefined;
  readonly rank: number;
  readonly dots: readonly Dot[];
  readonly context: VersionVector | null;
  readonly problem?: string;
}

/**
 * The voting history of an election from merged state. An event counts only if its context is well
 * formed and its maker is the organiser or was a co-organiser as far as it knew when it made it
 * (its grant, and not its revocation, in the event's context; anyone with open roles); deleting an
 * event changes nothing, and only the organiser reopens. Events are ordered causally (one is before another if the other's
 * context covers all its dots); concurrent ones by rank (the organiser's first), then oid.
 */
export function votingHistoryOf(model: DomainModel, election: CRDTEntity, roles: ElectionRoles): VotingHistory {
  const organiser = ownerOf(election.oid);
  const enforced = roles === ElectionRoles.enforced;
  const records: VotingEventRecord[] = [];
  const effective: Parsed[] = [];
  const unseals: Parsed[] = [];
  // Deleted events too: an opening or closing happened; deleting it changes nothing (only a reopening does).
  for (const entity of everyOf(model, 'VotingEvent', election.oid)) {
    const parsed = parse(entity, organiser);
    if (parsed.problem) records.push(record(parsed, VotingEventEffect.malformed, parsed.problem));
    else if (enforced && !authorisedAt(model, election, parsed))
      records.push(record(parsed, VotingEventEffect.notAuthorised, `device ${shortDevice(parsed.device)} did not co-organise this election when it made this`));
    else if (parsed.action === VotingAction.unseal) unseals.push(parsed);
    else effective.push(parsed);
  }
  const rounds: Array<{ openings: Parsed[]; close: Parsed | null; sealKey: string | null; keys: string[] }> = [];
  for (const event of causalOrder(effective)) {
    const round = rounds[rounds.length - 1];
    const open = round !== undefined && round.close === null;
    if (event.action === VotingAction.open) {
      if (open && !round.openings.some((o) => sawAll(event, o))) {
        round.openings.push(event);
        records.push(record(event, VotingEventEffect.joined, 'opened concurrently with the round’s first opening'));
      } else if (open) records.push(record(event, VotingEventEffect.ignored, 'voting was already open'));
      else if (round && enforced && event.device !== organiser) records.push(record(event, VotingEventEffect.ignored, 'only the organiser reopens voting'));
      else if (round && !sawAll(event, round.close!))
        records.push(record(event, VotingEventEffect.ignored, 'made without having seen the closing it would reopen'));
      else {
        rounds.push({ openings: [event], close: null, sealKey: stringOf(event.entity, 'sealKey'), keys: [] });
        records.push(record(event, VotingEventEffect.opened));
      }
    } else if (!round) records.push(record(event, VotingEventEffect.ignored, 'voting was never open'));
    else if (!open) records.push(record(event, VotingEventEffect.ignored, 'voting was already closed (a concurrent closing decides)'));
    else if (!round.openings.some((o) => sawAll(event, o))) records.push(record(event, VotingEventEffect.ignored, 'made without having seen this round’s opening'));
    else {
      round.close = event;
      records.push(record(event, VotingEventEffect.closed));
    }
  }
  for (const unseal of unseals) {
    const opening = unseal.entity.getAttribute('opening');
    const round = rounds.find((r) => r.openings.some((o) => o.entity.oid === opening));
    const key = stringOf(unseal.entity, 'key');
    if (!round || round.close === null) records.push(record(unseal, VotingEventEffect.ignored, 'it names no closed round'));
    else if (ownerOf(String(opening)) !== unseal.device) records.push(record(unseal, VotingEventEffect.ignored, 'only the device that opened a round holds its key'));
    else if (key === null) records.push(record(unseal, VotingEventEffect.malformed, 'it carries no key'));
    else {
      if (!round.keys.includes(key)) round.keys.push(key);
      records.push(record(unseal, VotingEventEffect.keyPublished));
    }
  }
  const last = rounds[rounds.length - 1];
  const status = !last ? ElectionStatus.draft : last.close === null ? ElectionStatus.open : ElectionStatus.closed;
  return {
    status,
    rounds: rounds.map((r) => ({
      openings: r.openings.map((o) => o.entity),
      close: r.close?.entity ?? null,
      closeContext: r.close?.context ?? null,
      sealKey: r.sealKey,
      publishedKeys: r.keys,
    })),
    events: records,
    openedAt: rounds[0]?.openings[0]?.at ?? null,
    closedAt: last?.close?.at ?? null,
  };
}

/** The context a voting event carries (its maker's version vector when it made it), or null if it has none or a bad one. */
export function contextOf(event: CRDTEntity): VersionVector | null {
  const text = event.getAttribute('context');
  if (typeof text !== 'string') return null;
  // A tally asks once per ballot; a context is immutable, so it is parsed once per entity.
  const cached = parsedContexts.get(event);
  if (cached?.text === text) return cached.context;
  let context: VersionVector | null;
  try {
    context = VersionVector.fromJSON(JSON.parse(text));
  } catch {
    context = null;
  }
  parsedContexts.set(event, { text, context });
  return context;
}

const parsedContexts = new WeakMap<CRDTEntity, { readonly text: string; readonly context: VersionVector | null }>();

/** The dots that made an entity: every write it holds except its deletion mark's. */
export function creationDots(entity: CRDTEntity): Dot[] {
  const state = entity.toState();
  const dots: Dot[] = [];
  for (const [attribute, writes] of Object.entries(state.attributes)) if (attribute !== DELETED) for (const write of writes) dots.push(write.dot);
  for (const items of Object.values(state.children)) for (const [, itemDots] of items) dots.push(...itemDots);
  return dots;
}

/** The dots of an entity's deletion mark, if it is deleted (every write of `$deleted` holding true). */
export function deletionDots(entity: CRDTEntity): Dot[] {
  return (entity.toState().attributes[DELETED] ?? []).filter((write) => write.value === true).map((write) => write.dot);
}

function parse(entity: CRDTEntity, organiser: string | undefined): Parsed {
  const device = ownerOf(entity.oid);
  const action = entity.getAttribute('action') as VotingAction;
  const base = { entity, action, at: String(entity.getAttribute('at') ?? ''), device, rank: device === organiser ? 0 : 1, dots: creationDots(entity) };
  const context = contextOf(entity);
  if (action === VotingAction.unseal) return { ...base, context };
  if (!context) return { ...base, context, problem: 'it carries no readable causal context' };
  // A context is what its maker had seen before making the event: it cannot hold the event itself.
  if (base.dots.some((dot) => context.covers(dot))) return { ...base, context, problem: 'its causal context claims the event itself' };
  return { ...base, context };
}

// The organiser's events count; a co-organiser's opening or closing if its maker had seen its grant, and not its
// revocation, when it made it: a later revocation cannot undo a closing (the organiser reopens).
function authorisedAt(model: DomainModel, election: CRDTEntity, event: Parsed): boolean {
  if (event.device === undefined) return false;
  if (event.device === ownerOf(election.oid)) return true;
  // A key is the opening device's to publish: checked against the round's opening below.
  if (event.action === VotingAction.unseal) return true;
  return event.context !== null && coOrganisersAt(model, election, event.context).has(event.device);
}

function record(parsed: Parsed, effect: VotingEventEffect, detail?: string): VotingEventRecord {
  return { event: parsed.entity, action: parsed.action, at: parsed.at, device: parsed.device, effect, ...(detail ? { detail } : {}) };
}

// True if `later`'s maker had seen every dot of `earlier` when it made `later`.
function sawAll(later: Parsed, earlier: Parsed): boolean {
  return later.context !== null && earlier.dots.length > 0 && earlier.dots.every((dot) => later.context!.covers(dot));
}

// A topological order of "saw": among events whose predecessors are placed, the lowest (rank, oid)
// goes first. A cycle (only hostile contexts make one) is broken the same way.
function causalOrder(events: readonly Parsed[]): Parsed[] {
  const rest = [...events].sort((a, b) => a.rank - b.rank || (a.entity.oid < b.entity.oid ? -1 : a.entity.oid > b.entity.oid ? 1 : 0));
  const order: Parsed[] = [];
  while (rest.length) {
    const ready = rest.findIndex((e) => !rest.some((other) => other !== e && sawAll(e, other) && !sawAll(other, e)));
    const [next] = rest.splice(ready === -1 ? 0 : ready, 1);
    order.push(next!);
  }
  return order;
}

// Enough of a device id to tell devices apart, as the app shows them.
function shortDevice(device: string | undefined): string {
  return device ? `${device.slice(0, 8)}…` : '(none)';
}

function stringOf(entity: CRDTEntity, attribute: string): string | null {
  const value = entity.getAttribute(attribute);
  return typeof value === 'string' ? value : null;
}
