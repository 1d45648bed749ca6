import type { Dot, NodeId } from '../../crdt/index.js';
import { type AttributeValue, type AttributeWrite, type CRDTEntity, DELETED, type DomainModel, type ModelChange } from '../../domain/index.js';
import { type VotingEventRecord, rolesOf, votingHistoryOf } from '../../models/electoral/index.js';
import { formatIsoDate, formatValue, shortId } from '../shared/format.js';

/** One item of an entity's state as a change of its own, so its signature can be checked alone. */
export interface AuditItem {
  readonly dot: Dot;
  readonly change: ModelChange;
}

/** How well an entry's time is known. */
export const ActivityTiming = { exact: 'exact', after: 'after', before: 'before', unknown: 'unknown' } as const;
export type ActivityTiming = (typeof ActivityTiming)[keyof typeof ActivityTiming];

/** One thing an author did, as far as the merged state still shows it. */
export interface ActivityEntry {
  /** Stable across renders: the entry's first dot. */
  readonly key: string;
  readonly author: NodeId;
  /**
   * Wall-clock ms of the author's hybrid clock when it wrote. Adds and removal marks carry no
   * clock reading: theirs is the author's nearest earlier write (`after`), else its nearest later
   * one (`before`), since an author's seqs and clock readings grow together.
   */
  readonly ms: number | undefined;
  readonly timing: ActivityTiming;
  /** What happened, in words; holds names peers chose (render as text only). */
  readonly what: string;
  /** Every item behind the entry, each signed on its own. */
  readonly items: readonly AuditItem[];
}

const MAX_VALUE_CHARS = 60;
// Consecutive writes this close belong to one operation (they are made in one synchronous call).
const SAME_ACT_MS = 1000;

/**
 * Everything the merged state holds about one election: the writes, adds and removal marks of the
 * election, its candidates, its voters (registered for it, approved in it, or voting in it), its
 * ballots, and its co-organisers' grants, approvals and openings and closings, grouped into entries by author and moment, newest first. Overwritten writes are
 * gone from the state and so from the list; a relation keeps only each author's latest removal.
 */
export function electionActivity(model: DomainModel, electionId: string): ActivityEntry[] {
  const entities = relatedEntities(model, electionId);
  const effects = votingEffects(model, electionId);
  const relationItems: RelationItem[] = [];
  const clockOf = new Map<NodeId, Array<[seq: number, ms: number]>>();
  const writesOf: Array<[CRDTEntity, Map<NodeId, RunWrite[]>]> = [];
  for (const entity of entities) {
    const state = entity.toState();
    const { entityType, oid } = state;
    const byAuthor = new Map<NodeId, RunWrite[]>();
    writesOf.push([entity, byAuthor]);
    for (const [attribute, writes] of Object.entries(state.attributes))
      for (const write of writes) {
        const item: AuditItem = { dot: write.dot, change: { kind: 'attribute', entityType, oid, attribute, writes: [write] } };
        let list = byAuthor.get(write.dot.node);
        if (!list) byAuthor.set(write.dot.node, (list = []));
        list.push({ attribute, write, item });
        let clock = clockOf.get(write.dot.node);
        if (!clock) clockOf.set(write.dot.node, (clock = []));
        clock.push([write.dot.seq, write.ts.ms]);
      }
    for (const [relation, items] of Object.entries(state.children))
      for (const [child, dots] of items) {
        // A voter's registrations for other elections are not this election's business.
        if (entity.concept === 'Voter' && relation === 'elections' && child !== electionId) continue;
        for (const dot of dots)
          relationItems.push({ entity, relation, child, dot, item: { dot, change: { kind: 'child-add', entityType, oid, relation, child, dot } } });
      }
    for (const [relation, dots] of Object.entries(state.removals ?? {}))
      for (const dot of dots)
        relationItems.push({ entity, relation, child: undefined, dot, item: { dot, change: { kind: 'children', entityType, oid, relation, items: [], removals: [dot] } } });
  }
  for (const clock of clockOf.values()) clock.sort((a, b) => a[0] - b[0]);
  const seqsOf = new Map<NodeId, number[]>();
  for (const [node, clock] of clockOf) seqsOf.set(node, clock.map(([seq]) => seq));
  for (const { dot } of relationItems) {
    let seqs = seqsOf.get(dot.node);
    if (!seqs) seqsOf.set(dot.node, (seqs = []));
    seqs.push(dot.seq);
  }
  for (const seqs of seqsOf.values()) seqs.sort((a, b) => a - b);

  const runs: Run[] = [];
  for (const [entity, byAuthor] of writesOf)
    for (const [node, writes] of byAuthor) {
      writes.sort((a, b) => a.write.dot.seq - b.write.dot.seq);
      let run: Run | undefined;
      for (const write of writes) {
        if (!run || !sameAct(run.writes[run.writes.length - 1]!, write, seqsOf.get(node)!)) runs.push((run = { entity, writes: [], relations: [], lastSeq: 0 }));
        run.writes.push(write);
        run.lastSeq = write.write.dot.seq;
      }
    }

  // Adding an entity right after creating it (the very next seq) is one act: "added candidate
  // Ada". Any other add or removal is listed alone, since its seq tells order but not time.
  const byLastSeq = new Map<string, Run>();
  for (const run of runs) byLastSeq.set(`${run.writes[0]!.write.dot.node}:${run.lastSeq}`, run);
  const entries: ActivityEntry[] = [];
  for (const item of relationItems) {
    const run = item.child === undefined ? undefined : byLastSeq.get(`${item.dot.node}:${item.dot.seq - 1}`);
    if (run && run.entity.oid === item.child && run.relations.length === 0 && isCreation(model, run)) {
      run.relations.push(item);
      continue;
    }
    const [ms, timing] = estimateTime(clockOf.get(item.dot.node), item.dot.seq);
    entries.push({ key: dotText(item.dot), author: item.dot.node, ms, timing, what: capitalised(relationPhrase(model, electionId, item)), items: [item.item] });
  }
  for (const run of runs) {
    const first = run.writes[0]!.write;
    entries.push({
      key: dotText(first.dot),
      author: first.dot.node,
      ms: first.ts.ms,
      timing: ActivityTiming.exact,
      what: runPhrase(model, electionId, run, effects),
      items: [...run.writes.map((write) => write.item), ...run.relations.map((relation) => relation.item)],
    });
  }
  return entries.sort(newestFirst);
}

/**
 * True if two writes of one author to one entity (`b` after `a` in seq) belong to one operation.
 * One operation writes in one go: nothing else of the author's lies between them (a seq missing
 * between them is a write of the operation overwritten since, or something outside this
 * election), and the clock barely moved. A deletion or restoration is always an act of its own.
 */
function sameAct(a: RunWrite, b: RunWrite, authorSeqs: readonly number[]): boolean {
  if (a.attribute === DELETED || b.attribute === DELETED) return false;
  if (b.write.ts.ms - a.write.ts.ms > SAME_ACT_MS) return false;
  // The author's first known seq after `a` must be `b`'s.
  return authorSeqs[firstAbove(authorSeqs, a.write.dot.seq)] === b.write.dot.seq;
}

/** The index of the first element of ascending `values` greater than `value`. */
function firstAbove(values: readonly number[], value: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (values[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** True if the run writes every attribute `create` always writes (required ones and defaults): only a creation does. */
function isCreation(model: DomainModel, run: Run): boolean {
  const concept = model.schema.concepts.get(run.entity.concept)!;
  const written = new Set(run.writes.map((write) => write.attribute));
  const always = [...concept.attributes.values()].filter((a) => a.required || a.default !== undefined);
  return always.length > 0 && always.every((a) => written.has(a.name));
}

interface RunWrite {
  readonly attribute: string;
  readonly write: AttributeWrite;
  readonly item: AuditItem;
}

/** Writes of one author to one entity at one clock reading, with the adds and removals that followed them at once. */
interface Run {
  readonly entity: CRDTEntity;
  readonly writes: RunWrite[];
  readonly relations: RelationItem[];
  lastSeq: number;
}

interface RelationItem {
  readonly entity: CRDTEntity;
  readonly relation: string;
  /** The child added; undefined for a removal mark (which does not say what it removed). */
  readonly child: string | undefined;
  readonly dot: Dot;
  readonly item: AuditItem;
}

/** The election, and its candidates, voters, ballots and co-organisers' entities, deleted ones included. */
function relatedEntities(model: DomainModel, electionId: string): CRDTEntity[] {
  const election = model.get(electionId, { includeDeleted: true });
  if (election?.concept !== 'Election') return [];
  const ofElection = (concept: string) => model.entities(concept, { includeDeleted: true }).filter((e) => e.getAttribute('election') === electionId);
  const listed = new Set(election.childOids('candidates'));
  const candidates = model.entities('Candidate', { includeDeleted: true }).filter((c) => c.getAttribute('election') === electionId || listed.has(c.oid));
  const ballots = ofElection('Ballot');
  const [grants, approvals, events] = [ofElection('CoOrganiser'), ofElection('Approval'), ofElection('VotingEvent')];
  const voterIds = new Set(election.childOids('approvedVoters'));
  for (const entity of [...ballots, ...approvals]) voterIds.add(String(entity.getAttribute('voter')));
  const voters = model.entities('Voter', { includeDeleted: true }).filter((v) => voterIds.has(v.oid) || v.childOids('elections').includes(electionId));
  return [election, ...candidates, ...voters, ...ballots, ...grants, ...approvals, ...events];
}

/** The words for a run of writes (and what joined it). */
function runPhrase(model: DomainModel, electionId: string, run: Run, effects: ReadonlyMap<string, VotingEventRecord>): string {
  const { entity } = run;
  const written = new Map(run.writes.map(({ attribute, write }) => [attribute, write.value]));
  const phrases: string[] = [];
  const deleted = written.get(DELETED);
  written.delete(DELETED);
  const created = isCreation(model, run);
  const addsItself = run.relations.some((relation) => relation.child === entity.oid);
  if (created && entity.concept === 'VotingEvent') phrases.push(votingEventPhrase(written, effects.get(entity.oid)));
  else if (created && !addsItself) phrases.push(creationPhrase(model, entity, written));
  else if (!created && written.size) phrases.push(updatePhrase(model, entity, written));
  if (deleted === true) phrases.push(deletionPhrase(model, entity));
  else if (deleted === false && !created && !written.size) phrases.push(`restored ${noun(model, entity)}`);
  for (const relation of run.relations) phrases.push(relationPhrase(model, electionId, relation, written));
  return capitalised(phrases.join('; '));
}

function creationPhrase(model: DomainModel, entity: CRDTEntity, written: ReadonlyMap<string, AttributeValue>): string {
  switch (entity.concept) {
    case 'Election':
      return `created the election ${quote(written.get('title'))}`;
    case 'Ballot':
      return `cast a ballot as voter ${labelOf(model, String(written.get('voter')))}`;
    case 'Voter':
      return `created voter ${quote(written.get('name'))} (number ${quote(written.get('voterNumber'))})`;
    case 'Candidate': {
      // A co-organiser's candidate stands by its grant, not by joining the election's relation.
      const party = written.get('party');
      return `added candidate ${quote(written.get('name'))}${typeof party === 'string' && party ? ` (${quote(party)})` : ''}`;
    }
    case 'CoOrganiser':
      return `made device ${shortId(String(written.get('device')))} a co-organiser`;
    case 'Approval':
      return `approved voter ${labelOf(model, String(written.get('voter')))}`;
    default:
      return `created ${noun(model, entity)}`;
  }
}

/** Every voting event of the election with what it did (see `votingHistoryOf`); none if the election is gone. */
function votingEffects(model: DomainModel, electionId: string): Map<string, VotingEventRecord> {
  const election = model.get(electionId, { includeDeleted: true });
  if (election?.concept !== 'Election') return new Map();
  const history = votingHistoryOf(model, election, rolesOf(model));
  const first = history.rounds[0]?.openings[0]?.oid;
  // A later round's opening is a reopening: marked so the entry says so.
  return new Map(history.events.map((record) => [record.event.oid, record.effect === 'opened' && record.event.oid !== first ? { ...record, detail: REOPENED } : record]));
}

const REOPENED = 'reopened';

/** An opening, closing or key publication, with what it did where it did not simply do it. */
function votingEventPhrase(written: ReadonlyMap<string, AttributeValue>, record: VotingEventRecord | undefined): string {
  const action = written.get('action');
  let what = action === 'close' ? 'closed voting' : action === 'unseal' ? 'published the key of the sealed ballots' : 'opened voting';
  if (record?.effect === 'opened' && record.detail === REOPENED) what = 'reopened voting';
  if (record?.effect === 'opened' && written.has('sealKey')) what += ', sealed';
  if (record?.effect === 'joined') what += ' (at the same time as another organiser)';
  else if (record?.effect === 'ignored') what += ` — no effect: ${record.detail ?? ''}`;
  else if (record?.effect === 'not-authorised' || record?.effect === 'malformed') what += ` — no effect: ${record.detail ?? ''}`;
  return what;
}

function updatePhrase(model: DomainModel, entity: CRDTEntity, written: ReadonlyMap<string, AttributeValue>): string {
  // The stamps are written once, with the status, and outlive it (closing overwrites "open").
  if (entity.concept === 'Election' && (written.has('openedAt') || written.get('status') === 'open')) return 'opened voting';
  if (entity.concept === 'Election' && (written.has('closedAt') || written.get('status') === 'closed')) return 'closed voting';
  const concept = model.schema.concepts.get(entity.concept)!;
  const values = [...written].map(([attribute, value]) => {
    const schema = concept.attributes.get(attribute);
    const shown =
      schema?.type === 'reference' && typeof value === 'string'
        ? labelOf(model, value)
        : schema?.type === 'date'
          ? formatIsoDate(value)
          : typeof value === 'string'
            ? quote(value)
            : formatValue(value);
    return `${attribute} to ${shown}`;
  });
  return `set ${values.join(', ')}${entity.concept === 'Election' ? '' : ` of ${noun(model, entity)}`}`;
}

/** The words for an add or removal mark; `written` is what the same act wrote, if it joined a run. */
function relationPhrase(model: DomainModel, electionId: string, item: RelationItem, written?: ReadonlyMap<string, AttributeValue>): string {
  const { entity, relation, child } = item;
  const party = written?.get('party');
  const partyNote = child && typeof party === 'string' && party ? ` (${quote(party)})` : '';
  if (entity.concept === 'Election' && relation === 'candidates')
    return child ? `added candidate ${labelOf(model, child)}${partyNote}` : 'removed a candidate';
  if (entity.concept === 'Election' && relation === 'approvedVoters') return child ? `approved voter ${labelOf(model, child)}` : "withdrew a voter's approval";
  if (entity.concept === 'Voter' && relation === 'elections')
    return child === electionId ? `registered ${labelOf(model, entity.oid)} for this election` : `withdrew ${labelOf(model, entity.oid)} from an election`;
  return child ? `added ${labelOf(model, child)} to ${relation} of ${noun(model, entity)}` : `removed from ${relation} of ${noun(model, entity)}`;
}

function deletionPhrase(model: DomainModel, entity: CRDTEntity): string {
  switch (entity.concept) {
    case 'CoOrganiser':
      return `removed device ${shortId(String(entity.getAttribute('device')))} as a co-organiser`;
    case 'Approval':
      return `withdrew the approval of voter ${labelOf(model, String(entity.getAttribute('voter')))}`;
    case 'Candidate':
      return `withdrew candidate ${labelOf(model, entity.oid)}`;
    default:
      return `deleted ${noun(model, entity)}`;
  }
}

/** "candidate “Ada”", "the election “Mayor”", "a ballot". */
function noun(model: DomainModel, entity: CRDTEntity): string {
  if (entity.concept === 'Election') return `the election ${labelOf(model, entity.oid)}`;
  if (entity.concept === 'Ballot') return 'a ballot';
  return `${entity.concept.toLowerCase()} ${labelOf(model, entity.oid)}`;
}

/** An entity's name or title, quoted; a short id if it has neither (or is unknown here). */
function labelOf(model: DomainModel, oid: string): string {
  const entity = model.get(oid, { includeDeleted: true });
  const name = entity?.getAttribute(entity.concept === 'Election' ? 'title' : 'name');
  return typeof name === 'string' && name ? quote(name) : shortId(oid);
}

function quote(value: AttributeValue | undefined): string {
  const text = formatValue(value);
  return `“${text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text}”`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The author's clock reading nearest to `seq`, from its writes sorted by seq. */
function estimateTime(clock: ReadonlyArray<readonly [number, number]> | undefined, seq: number): [number | undefined, ActivityTiming] {
  if (!clock?.length) return [undefined, ActivityTiming.unknown];
  let low = 0;
  let high = clock.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (clock[middle]![0] < seq) low = middle + 1;
    else high = middle;
  }
  // clock[low - 1] is the last write before seq; clock[low] the first after it.
  if (low > 0) return [clock[low - 1]![1], ActivityTiming.after];
  return [clock[0]![1], ActivityTiming.before];
}

function newestFirst(a: ActivityEntry, b: ActivityEntry): number {
  const am = a.ms ?? -Infinity;
  const bm = b.ms ?? -Infinity;
  if (am !== bm) return bm - am;
  const as = a.items[a.items.length - 1]!.dot.seq;
  const bs = b.items[b.items.length - 1]!.dot.seq;
  if (as !== bs) return bs - as;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function dotText(dot: Dot): string {
  return `${dot.node}:${dot.seq}`;
}
