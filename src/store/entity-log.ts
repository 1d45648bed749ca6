import { VersionVector, type VersionVectorJSON } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { type ChunkEntry, type ChunkRecord, NodeTable, chunkEntries, chunkRecords, decodeEntry, encodeEntity } from './entity-chunks.js';
import { joinStoredEntity } from './join-stored-entity.js';
import { type DamagedRecord, type RawEntityRecord, entityRecordProblem } from './quarantine.js';

/**
 * The change log of a model (schema version 6): one small record per small save (a live edit),
 * appended without reading any entity, and folded into the chunks later (`entity-chunks.ts`).
 *
 * Why: a save that joins into the chunks reads the chunk keys and the chunk holding each entity,
 * then rewrites the chunk: three request round trips and a clone of a few hundred entities for an
 * edit of one attribute, all before the edit may leave the device. An append reads the model
 * record only (for the commit number and the stored version) and writes the entities' states as
 * the model holds them, with the causal contexts the join needs: joining the record later, in
 * commit order, gives exactly what joining it at once would have (`joinStoredEntity` with the
 * same states and versions), so a fold changes nothing stored but the layout.
 */
export interface LogRecord extends ChunkRecord {
  /** The commit that appended it; its key is `[modelId, commit]`. */
  readonly commit: number;
  /** The stored version when it was appended: the context of what storage held for its entities. */
  readonly base: VersionVectorJSON;
  /** The version saved with the entities: their exact context. */
  readonly version: VersionVectorJSON;
}

/** One log record, read: each entity with the contexts of its join. */
export interface LogStep {
  readonly commit: number;
  readonly entities: readonly EntityState[];
  readonly base: VersionVector;
  readonly version: VersionVector;
}

/**
 * The log record of a save, or undefined if an entity cannot be written compactly (it is saved by
 * a join into the chunks instead, which keeps it loose).
 */
export function logRecord(modelId: string, commit: number, entities: readonly EntityState[], base: VersionVector, version: VersionVector): LogRecord | undefined {
  const table = new NodeTable();
  const entries: ChunkEntry[] = [];
  for (const entity of entities) {
    const json = encodeEntity(entity, table);
    if (json === undefined) return undefined;
    entries.push({ oid: entity.oid, commit, json });
  }
  const [record] = chunkRecords(modelId, '', commit, entries, table.nodes);
  return { ...record!, commit, base: base.toJSON(), version: version.toJSON() };
}

/**
 * A stored log record read back, or why it cannot be: any damage makes the whole record unreadable,
 * since its entities and contexts were saved together and are joined together.
 */
export function readLogRecord(raw: unknown): LogStep | { readonly problem: string } {
  if (typeof raw !== 'object' || raw === null) return { problem: 'the log record is not an object' };
  const { commit, base, version } = raw as Partial<Record<keyof LogRecord, unknown>>;
  if (!Number.isSafeInteger(commit) || (commit as number) < 1) return { problem: 'the log record has no commit number' };
  const entries = chunkEntries(raw);
  if (entries.problem !== undefined) return { problem: entries.problem.replace('chunk record', 'log record') };
  const contexts = [base, version].map(readVersion);
  if (!contexts[0] || !contexts[1]) return { problem: 'the log record has a damaged version' };
  const entities: EntityState[] = [];
  for (const entry of entries.entries) {
    if (entry.json === undefined) return { problem: 'the log record has loose entries' };
    const decoded = decodeEntry(entry, entries.nodes);
    if (!decoded.ok) return { problem: decoded.reason };
    entities.push(decoded.value as EntityState);
  }
  return { commit: commit as number, entities, base: contexts[0], version: contexts[1] };
}

function readVersion(json: unknown): VersionVector | undefined {
  try {
    return VersionVector.fromJSON(json as VersionVectorJSON);
  } catch {
    return undefined;
  }
}

/** How a log record is named in problems and the quarantine. */
export const logLabel = (commit: number): string => `log record of commit ${commit}`;

/**
 * The readable records of a model's log, in commit order; a damaged one is listed in `damaged`
 * instead (its entities cannot be joined, so the load claims nothing: peers send them again).
 */
export function readLog(logged: readonly unknown[], damaged: DamagedRecord[]): LogStep[] {
  const steps: LogStep[] = [];
  for (const raw of logged) {
    const step = readLogRecord(raw);
    if (!('problem' in step)) {
      steps.push(step);
      continue;
    }
    const commit = (raw as { commit: number }).commit;
    damaged.push({ kind: 'entity', key: logLabel(commit), log: commit, reason: step.problem, value: raw });
  }
  return steps;
}

/**
 * Joins the log into loaded entity records, in commit order, exactly as a fold would (with `only`,
 * only into those entities). A stored record that is no entity state is joined as nothing stored
 * (the fold keeps it aside then).
 */
export function replayLog(records: RawEntityRecord[], steps: readonly LogStep[], only?: ReadonlySet<string>): void {
  if (!steps.length) return;
  const at = new Map(records.map((record, i) => [record.oid, i]));
  for (const step of steps) {
    for (const entity of step.entities) {
      if (only && !only.has(entity.oid)) continue;
      const i = at.get(entity.oid);
      const stored = i === undefined ? undefined : records[i]!.entity;
      const usable = stored !== undefined && entityRecordProblem(entity.oid, stored) === undefined ? (stored as EntityState) : undefined;
      const joined = joinStoredEntity(usable, stored !== undefined && !usable ? new VersionVector() : step.base, entity, step.version);
      if (i === undefined) at.set(entity.oid, records.push({ oid: entity.oid, entity: joined }) - 1);
      else records[i] = { oid: entity.oid, entity: joined };
    }
  }
}
