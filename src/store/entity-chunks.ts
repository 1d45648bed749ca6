import type { RemovalMark } from '../crdt/aw-set.js';
import type { Dot } from '../crdt/dot.js';
import type { AttributeWrite, EntityState } from '../domain/model-change.js';
import type { DamagedRecord, RawEntityRecord } from './quarantine.js';

/**
 * The stored layout of a model's entities (schema version 5): entities sorted by oid and kept in
 * chunk records of a few hundred each, instead of one record per entity. A chunk covers the oids
 * from its `start` up to the next chunk's `start`; the first chunk of a model starts at `''`.
 *
 * Why: reading 10,000 entity records costs IndexedDB a structured clone of every object of every
 * record (about 40 per entity), which was most of opening a room. A chunk holds its entities as
 * one JSON string (`data`) and a few flat arrays, so a read is a copy of a few strings, and one
 * `JSON.parse` per chunk reads its entities. Each entity's JSON stays separately addressable
 * (`lengths`), so a save parses and re-encodes only the entities it joins and copies the rest.
 *
 * Each entity's JSON is compact (`encodeEntity`): positional arrays instead of keyed objects, node
 * ids as indexes into the chunk's `nodes`, write times relative to the entity's first: about a
 * third of the entity state's own JSON, and a third of the bytes to clone, write and parse.
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
  /** The node ids the entities' dots name, by index (only ever appended to, so kept JSON stays valid). */
  readonly nodes: readonly string[];
  /** The oids of the entities in `data`, ascending. */
  readonly oids: readonly string[];
  /** Per entity, the commit that last wrote it. */
  readonly commits: readonly number[];
  /** Per entity, the length of its JSON in `data`. */
  readonly lengths: readonly number[];
  /** `[` + each entity's compact JSON (`encodeEntity`), joined by `,` + `]`: one `JSON.parse` reads them all. */
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

/** A chunk's entities and node table as read from storage, or why they could not be read at all. */
export type ChunkEntries =
  | { readonly entries: ChunkEntry[]; readonly nodes: readonly string[]; readonly problem?: undefined }
  | { readonly entries?: undefined; readonly nodes?: undefined; readonly problem: string };

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
  const { oids, commits, lengths, data, loose, nodes } = raw as Partial<Record<keyof ChunkRecord, unknown>>;
  if (!Array.isArray(oids) || !Array.isArray(commits) || !Array.isArray(lengths) || typeof data !== 'string')
    return { problem: 'the chunk record lacks its oids, commits, lengths or data' };
  if (!Array.isArray(nodes) || !nodes.every((node) => typeof node === 'string')) return { problem: 'the chunk record has no node table' };
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
  return { entries, nodes: nodes as string[] };
}

/**
 * Every entity of a stored chunk, decoded: one `JSON.parse` of the whole data, or, if that fails,
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
    const value = parsed ? decodeEntity(entry.oid, parsed[i], read.nodes) : decodeEntry(entry, read.nodes);
    if (typeof value === 'string') return { oid: entry.oid, commit: entry.commit, entity: entry.json, unreadable: value };
    if ('ok' in value) return value.ok ? { oid: entry.oid, commit: entry.commit, entity: value.value } : { oid: entry.oid, commit: entry.commit, entity: entry.json, unreadable: value.reason };
    return { oid: entry.oid, commit: entry.commit, entity: value };
  });
  return { entities };
}

/** One entry's entity: decoded from its JSON, or a loose entry's value; or why it cannot be read. */
export function decodeEntry(entry: ChunkEntry, nodes: readonly string[]): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (entry.json === undefined) return { ok: true, value: entry.value };
  let compact: unknown;
  try {
    compact = JSON.parse(entry.json);
  } catch (error) {
    return { ok: false, reason: `the entity's JSON does not parse (${(error as Error).message})` };
  }
  const value = decodeEntity(entry.oid, compact, nodes);
  return typeof value === 'string' ? { ok: false, reason: value } : { ok: true, value };
}

/** Assigns node ids their index in a chunk's node table, appending new ones. */
export class NodeTable {
  readonly nodes: string[];
  readonly #index = new Map<string, number>();

  constructor(nodes: readonly string[] = []) {
    this.nodes = [...nodes];
    this.nodes.forEach((node, i) => this.#index.set(node, i));
  }

  indexOf(node: string): number {
    let index = this.#index.get(node);
    if (index === undefined) {
      index = this.nodes.push(node) - 1;
      this.#index.set(node, index);
    }
    return index;
  }
}

/**
 * An entity state's compact JSON: `[entityType, firstMs, attributes, children]` (plus `removals`
 * if the state has them), where `attributes` is `[name, writes, …]` with each write as five
 * numbers and a value (`value, ms - firstMs, c, node index, seq`), `children` is
 * `[relation, [child, dots, …], …]` and `removals` `[relation, dots, …]`, each dot as `node index,
 * seq`; then, if a mark names what it removed, `removed` `[relation, [dots or 0 per mark], …]`
 * (0 for a legacy mark without a list; states stored before lists have no `removed`). Undefined
 * if the state cannot be written so exactly (a value or number JSON would change): such an entity
 * is kept loose instead.
 */
export function encodeEntity(state: EntityState, table: NodeTable): string | undefined {
  let first: number | undefined;
  const attributes: unknown[] = [];
  for (const name of Object.keys(state.attributes)) {
    const writes = state.attributes[name];
    if (!Array.isArray(writes)) return undefined;
    const flat: unknown[] = [];
    for (const write of writes as readonly AttributeWrite[]) {
      const { value, ts, dot } = write;
      if (!exactValue(value) || !isInteger(ts?.ms) || !isInteger(ts.c) || !isInteger(dot?.seq) || typeof dot.node !== 'string') return undefined;
      first ??= ts.ms;
      flat.push(value, ts.ms - first, ts.c, table.indexOf(dot.node), dot.seq);
    }
    attributes.push(name, flat);
  }
  const children: unknown[] = [];
  for (const relation of Object.keys(state.children)) {
    const items = state.children[relation];
    if (!Array.isArray(items)) return undefined;
    const flat: unknown[] = [];
    for (const item of items) {
      if (!Array.isArray(item) || typeof item[0] !== 'string') return undefined;
      const dots = flatDots(item[1], table);
      if (!dots) return undefined;
      flat.push(item[0], dots);
    }
    children.push(relation, flat);
  }
  const compact: unknown[] = [state.entityType, first ?? 0, attributes, children];
  if (state.removals !== undefined) {
    const removals: unknown[] = [];
    const lists: unknown[] = [];
    for (const relation of Object.keys(state.removals)) {
      const marks = state.removals[relation];
      const dots = flatDots(marks, table);
      if (!dots) return undefined;
      removals.push(relation, dots);
      if (!(marks as readonly RemovalMark[]).some((mark) => mark.removed !== undefined)) continue;
      const removed: unknown[] = [];
      for (const mark of marks as readonly RemovalMark[]) {
        const flat = mark.removed === undefined ? 0 : flatDots(mark.removed, table);
        if (flat === undefined) return undefined;
        removed.push(flat);
      }
      lists.push(relation, removed);
    }
    compact.push(removals);
    if (lists.length) compact.push(lists);
  }
  return typeof state.entityType === 'string' ? JSON.stringify(compact) : undefined;
}

/** The entity state `encodeEntity` wrote, or why `compact` is not one (then the entry is damaged). */
export function decodeEntity(oid: string, compact: unknown, nodes: readonly string[]): EntityState | string {
  const damaged = `the stored data of entity ${oid} is damaged`;
  if (!Array.isArray(compact) || compact.length < 4 || compact.length > 6) return damaged;
  const [entityType, first, attributeList, childList, removalList, removedList] = compact as unknown[];
  if (typeof entityType !== 'string' || !isInteger(first) || !Array.isArray(attributeList) || !Array.isArray(childList)) return damaged;
  const attributes: Record<string, AttributeWrite[]> = {};
  for (let i = 0; i < attributeList.length; i += 2) {
    const name: unknown = attributeList[i];
    const flat: unknown = attributeList[i + 1];
    if (!isKey(name) || !Array.isArray(flat) || flat.length % 5 !== 0) return damaged;
    const writes: AttributeWrite[] = [];
    for (let j = 0; j < flat.length; j += 5) {
      const [value, ms, c, node, seq] = [flat[j], flat[j + 1], flat[j + 2], nodes[flat[j + 3] as number], flat[j + 4]];
      if (!exactValue(value) || !isInteger(ms) || !isInteger(c) || typeof node !== 'string' || !isInteger(seq)) return damaged;
      writes.push({ value, ts: { ms: first + ms, c }, dot: { node, seq } as Dot });
    }
    attributes[name] = writes;
  }
  const children: Record<string, Array<readonly [string, Dot[]]>> = {};
  for (let i = 0; i < childList.length; i += 2) {
    const relation: unknown = childList[i];
    const flat: unknown = childList[i + 1];
    if (!isKey(relation) || !Array.isArray(flat) || flat.length % 2 !== 0) return damaged;
    const items: Array<readonly [string, Dot[]]> = [];
    for (let j = 0; j < flat.length; j += 2) {
      const dots = readDots(flat[j + 1], nodes);
      if (typeof flat[j] !== 'string' || !dots) return damaged;
      items.push([flat[j] as string, dots]);
    }
    children[relation] = items;
  }
  const state: EntityState = { entityType, oid, attributes, children };
  if (removalList === undefined) return state;
  if (!Array.isArray(removalList)) return damaged;
  const removals: Record<string, RemovalMark[]> = {};
  for (let i = 0; i < removalList.length; i += 2) {
    const relation: unknown = removalList[i];
    const dots = readDots(removalList[i + 1], nodes);
    if (!isKey(relation) || !dots) return damaged;
    removals[relation] = dots;
  }
  if (removedList === undefined) return { ...state, removals };
  if (!Array.isArray(removedList)) return damaged;
  for (let i = 0; i < removedList.length; i += 2) {
    const relation: unknown = removedList[i];
    const lists: unknown = removedList[i + 1];
    const marks = isKey(relation) && Object.hasOwn(removals, relation) ? removals[relation]! : undefined;
    if (!marks || !Array.isArray(lists) || lists.length !== marks.length) return damaged;
    for (let m = 0; m < marks.length; m++) {
      if (lists[m] === 0) continue;
      const removed = readDots(lists[m], nodes);
      if (!removed) return damaged;
      marks[m] = { ...marks[m]!, removed };
    }
  }
  return { ...state, removals };
}

function flatDots(dots: unknown, table: NodeTable): number[] | undefined {
  if (!Array.isArray(dots)) return undefined;
  const flat: number[] = [];
  for (const dot of dots as unknown[]) {
    const { node, seq } = (dot ?? {}) as Partial<Dot>;
    if (typeof node !== 'string' || !isInteger(seq)) return undefined;
    flat.push(table.indexOf(node), seq);
  }
  return flat;
}

function readDots(flat: unknown, nodes: readonly string[]): Dot[] | undefined {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return undefined;
  const dots: Dot[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const node = nodes[flat[i] as number];
    const seq: unknown = flat[i + 1];
    if (typeof node !== 'string' || !isInteger(seq)) return undefined;
    dots.push({ node, seq } as Dot);
  }
  return dots;
}

// A value JSON writes and reads back as it was: a string, boolean, null, or a finite number but -0.
function exactValue(value: unknown): value is string | number | boolean | null {
  return typeof value === 'string' || typeof value === 'boolean' || value === null || (typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0));
}

function isInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && !Object.is(value, -0);
}

// A name that can key a plain object without touching its prototype.
function isKey(value: unknown): value is string {
  return typeof value === 'string' && value !== '__proto__';
}

/**
 * The chunk records holding `entries` (ascending by oid; their JSON indexes into `nodes`), split
 * into pieces if there are too many; the first keeps `start`.
 */
export function* chunkRecords(modelId: string, start: string, commit: number, entries: readonly ChunkEntry[], nodes: readonly string[]): Generator<ChunkRecord> {
  // Made one at a time: a caller encoding many pieces can pause between them.
  if (entries.length <= CHUNK_MAX_ENTITIES) {
    yield chunkRecord(modelId, start, commit, entries, nodes);
    return;
  }
  const pieces = Math.ceil(entries.length / CHUNK_TARGET_ENTITIES);
  for (let piece = 0; piece < pieces; piece++) {
    const slice = entries.slice(Math.floor((piece * entries.length) / pieces), Math.floor(((piece + 1) * entries.length) / pieces));
    yield chunkRecord(modelId, piece === 0 ? start : slice[0]!.oid, commit, slice, nodes);
  }
}

function chunkRecord(modelId: string, start: string, commit: number, entries: readonly ChunkEntry[], nodes: readonly string[]): ChunkRecord {
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
  const record = { modelId, start, commit, nodes: [...nodes], oids, commits, lengths, data };
  return loose.length ? { ...record, loose } : record;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** How a chunk is named in problems and the quarantine: by the lowest oid it covers. */
export const chunkLabel = (start: string): string => `chunk from ${start || 'the first oid'}`;

/**
 * The entities of stored chunks (with `sinceCommit`, only those written after it), read
 * leniently: an entity whose JSON does not parse, or a chunk whose entities cannot be told apart,
 * is listed as damaged instead (entities of the wrong shape are found by `screenStoredModel`).
 */
export function entitiesOfChunks(chunks: readonly unknown[], sinceCommit: number): { records: RawEntityRecord[]; damaged: DamagedRecord[] } {
  const records: RawEntityRecord[] = [];
  const damaged: DamagedRecord[] = [];
  for (const chunk of chunks) {
    const start = String((chunk as Partial<ChunkRecord> | null)?.start ?? '');
    if (sinceCommit > 0) {
      const read = chunkEntries(chunk);
      if (read.problem !== undefined) {
        damaged.push({ kind: 'entity', key: chunkLabel(start), chunk: start, reason: read.problem, value: chunk });
        continue;
      }
      for (const entry of read.entries) {
        if (entry.commit <= sinceCommit) continue;
        const parsed = decodeEntry(entry, read.nodes);
        if (parsed.ok) records.push({ oid: entry.oid, entity: parsed.value });
        else damaged.push({ kind: 'entity', key: entry.oid, reason: parsed.reason, value: entry.json });
      }
      continue;
    }
    const read = readChunk(chunk);
    if (read.problem !== undefined) {
      damaged.push({ kind: 'entity', key: chunkLabel(start), chunk: start, reason: read.problem, value: chunk });
      continue;
    }
    for (const entity of read.entities)
      if (entity.unreadable === undefined) records.push({ oid: entity.oid, entity: entity.entity });
      else damaged.push({ kind: 'entity', key: entity.oid, reason: entity.unreadable, value: entity.entity });
  }
  return { records, damaged };
}
