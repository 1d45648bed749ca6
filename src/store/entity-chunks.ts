/**
 * The stored layout of a model's entities (schema version 5): entities sorted by oid and kept in
 * chunk records of a few hundred each, instead of one record per entity. A chunk covers the oids
 * from its `start` up to the next chunk's `start`; the first chunk of a model starts at `''`.
 *
 * Why: reading 10,000 entity records costs IndexedDB a structured clone of every object of every
 * record (about 40 per entity), which was most of opening a room. A chunk holds its entities as
 * one JSON string (`data`) and three flat arrays, so a read is a copy of a few strings, and one
 * `JSON.parse` per chunk rebuilds the states. Each entity's JSON stays separately addressable
 * (`lengths`), so a save parses and re-encodes only the entities it joins and copies the rest.
 */

/** The most entities a chunk holds; a save that grows a chunk beyond it splits the chunk. */
export const CHUNK_MAX_ENTITIES = 400;
/** The size of the pieces a full chunk is split into (and the size of migrated chunks). */
export const CHUNK_TARGET_ENTITIES = 200;

/** An entity kept in its structured-clone form (see `ChunkRecord.loose`). */
export interface LooseEntry {
  readonly oid: string;
  readonly commit: number;
  readonly entity: unknown;
}

/** One chunk record of the `chunks` store. */
export interface ChunkRecord {
  readonly modelId: string;
  /** The lowest oid this chunk may hold; its key is `[modelId, start]`. */
  readonly start: string;
  /** The last commit that wrote the chunk (indexed: other tabs read only chunks written since). */
  readonly commit: number;
  /** The oids of the entities in `data`, ascending. */
  readonly oids: readonly string[];
  /** Per entity, the commit that last wrote it. */
  readonly commits: readonly number[];
  /** Per entity, the length of its JSON in `data`. */
  readonly lengths: readonly number[];
  /** `[` + each entity's state as JSON, joined by `,` + `]`: one `JSON.parse` reads them all. */
  readonly data: string;
  /**
   * Entities kept as they were stored before this layout, because their value is no entity state
   * at all (a damaged record migrated from schema version 4): kept unchanged for the quarantine.
   */
  readonly loose?: readonly LooseEntry[];
}

/** One entity of a chunk as a save handles it: its JSON is parsed only if the save joins it. */
export interface ChunkEntry {
  readonly oid: string;
  readonly commit: number;
  /** The entity's JSON as stored; absent for a loose entry. */
  readonly json?: string;
  /** The loose entry's value (a loose entry has no `json`). */
  readonly value?: unknown;
}

/** A chunk's entities as read from storage, or why they could not be read at all. */
export type ChunkEntries = { readonly entries: ChunkEntry[]; readonly problem?: undefined } | { readonly entries?: undefined; readonly problem: string };

/** Which chunk of `starts` (ascending) covers `oid`: the last start at or below it, -1 if none. */
export function chunkIndexOf(starts: readonly string[], oid: string): number {
  let low = 0;
  let high = starts.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle]! <= oid) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/**
 * The entities of a stored chunk, each with its JSON cut out of `data` (not parsed), loose ones
 * included. A record whose arrays do not match its data (a damaged record, not one this code
 * wrote) gives a `problem` instead: its entities cannot be told apart.
 */
export function chunkEntries(raw: unknown): ChunkEntries {
  if (typeof raw !== 'object' || raw === null) return { problem: 'the chunk record is not an object' };
  const { oids, commits, lengths, data, loose } = raw as Partial<Record<keyof ChunkRecord, unknown>>;
  if (!Array.isArray(oids) || !Array.isArray(commits) || !Array.isArray(lengths) || typeof data !== 'string')
    return { problem: 'the chunk record lacks its oids, commits, lengths or data' };
  const count = oids.length;
  if (commits.length !== count || lengths.length !== count) return { problem: 'the chunk record has arrays of different lengths' };
  const entries: ChunkEntry[] = [];
  let offset = 1;
  for (let i = 0; i < count; i++) {
    const oid = oids[i];
    const commit = commits[i];
    const length = lengths[i];
    if (typeof oid !== 'string' || !isCount(commit) || !isCount(length) || offset + length > data.length)
      return { problem: `entry ${i} of the chunk record is damaged` };
    entries.push({ oid, commit, json: data.slice(offset, offset + length) });
    offset += length + 1;
  }
  // '[' + the entities joined by ',' + ']': the lengths add up to the data exactly.
  if (data[0] !== '[' || data[data.length - 1] !== ']' || (count ? offset !== data.length : data.length !== 2))
    return { problem: 'the chunk data does not match its lengths' };
  if (loose !== undefined) {
    if (!Array.isArray(loose)) return { problem: 'the chunk record has damaged loose entries' };
    for (const entry of loose as unknown[]) {
      const { oid, commit, entity } = (typeof entry === 'object' && entry !== null ? entry : {}) as Partial<LooseEntry>;
      if (typeof oid !== 'string' || !isCount(commit)) return { problem: 'the chunk record has damaged loose entries' };
      entries.push({ oid, commit, value: entity });
    }
  }
  return { entries };
}

/**
 * Every entity of a stored chunk, parsed: one `JSON.parse` of the whole data, or, if that fails,
 * one per entity so that one damaged entity costs only itself (its value is then its raw JSON).
 */
export function readChunk(raw: unknown): { entities: Array<{ oid: string; commit: number; entity: unknown; unreadable?: string }>; problem?: undefined } | { entities?: undefined; problem: string } {
  const read = chunkEntries(raw);
  if (read.problem !== undefined) return { problem: read.problem };
  let parsed: unknown[] | undefined;
  try {
    const all: unknown = JSON.parse((raw as ChunkRecord).data);
    if (Array.isArray(all) && all.length === (raw as ChunkRecord).oids.length) parsed = all;
  } catch {
    // Read entity by entity below.
  }
  const entities = read.entries.map((entry, i) => {
    if (entry.json === undefined) return { oid: entry.oid, commit: entry.commit, entity: entry.value };
    if (parsed) return { oid: entry.oid, commit: entry.commit, entity: parsed[i] };
    const value = parseEntry(entry.json);
    return value.ok ? { oid: entry.oid, commit: entry.commit, entity: value.value } : { oid: entry.oid, commit: entry.commit, entity: entry.json, unreadable: value.reason };
  });
  return { entities };
}

/** One entity's JSON parsed, or why it does not parse. */
export function parseEntry(json: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch (error) {
    return { ok: false, reason: `entity JSON does not parse (${(error as Error).message})` };
  }
}

/** The chunk records holding `entries` (ascending by oid), split into pieces if there are too many; the first keeps `start`. */
export function* chunkRecords(modelId: string, start: string, commit: number, entries: readonly ChunkEntry[]): Generator<ChunkRecord> {
  // Made one at a time: a caller encoding many pieces can pause between them.
  if (entries.length <= CHUNK_MAX_ENTITIES) {
    yield chunkRecord(modelId, start, commit, entries);
    return;
  }
  const pieces = Math.ceil(entries.length / CHUNK_TARGET_ENTITIES);
  for (let piece = 0; piece < pieces; piece++) {
    const slice = entries.slice(Math.floor((piece * entries.length) / pieces), Math.floor(((piece + 1) * entries.length) / pieces));
    yield chunkRecord(modelId, piece === 0 ? start : slice[0]!.oid, commit, slice);
  }
}

function chunkRecord(modelId: string, start: string, commit: number, entries: readonly ChunkEntry[]): ChunkRecord {
  const oids: string[] = [];
  const commits: number[] = [];
  const lengths: number[] = [];
  const jsons: string[] = [];
  const loose: LooseEntry[] = [];
  for (const entry of entries) {
    if (entry.json === undefined) {
      loose.push({ oid: entry.oid, commit: entry.commit, entity: entry.value });
      continue;
    }
    oids.push(entry.oid);
    commits.push(entry.commit);
    lengths.push(entry.json.length);
    jsons.push(entry.json);
  }
  const data = `[${jsons.join(',')}]`;
  return loose.length ? { modelId, start, commit, oids, commits, lengths, data, loose } : { modelId, start, commit, oids, commits, lengths, data };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
