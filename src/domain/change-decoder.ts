import {
  type Dot,
  InvalidVersionVectorError,
  compareDots,
  type NodeId,
  type RemovalMark,
  type Timestamp,
  VERSION_VECTOR_LIMITS,
  VersionVector,
  type VersionVectorLimits,
  isNodeId,
  isSeq,
} from '../crdt/index.js';
import { describe, isOid } from './attribute-rules.js';
import { NAME_PATTERN } from './domain-schema.js';
import {
  type AttributeValue,
  type AttributeWrite,
  CHANGE_FORMAT,
  type ChangeBatch,
  type EntityState,
  type ModelChange,
  type ModelSnapshot,
} from './model-change.js';

/** Why untrusted input was refused. */
export interface DecodeError {
  readonly error: string;
}

/** Size and count limits on untrusted changes and snapshots. */
export interface DecodeLimits {
  readonly maxChanges: number;
  readonly maxEntities: number;
  /** Writes in one register (concurrent writes, one per writer at most in practice). */
  readonly maxWrites: number;
  readonly maxChildren: number;
  /** Dots adding one child. */
  readonly maxDots: number;
  /**
   * Adds one removal mark names (what its author removed from one relation, over the relation's
   * life: marks are cumulative). Past it a mark is refused whole.
   */
  readonly maxRemoved: number;
  readonly maxAttributes: number;
  readonly maxRelations: number;
  /** Hard cap on any string value; each model applies its own, lower cap too. */
  readonly maxStringLength: number;
  readonly version: VersionVectorLimits;
}

/** Default limits. */
export const DECODE_LIMITS: DecodeLimits = {
  maxChanges: 100_000,
  maxEntities: 1_000_000,
  maxWrites: 256,
  maxChildren: 100_000,
  maxDots: 256,
  maxRemoved: 100_000,
  maxAttributes: 256,
  maxRelations: 64,
  maxStringLength: 1_000_000,
  version: VERSION_VECTOR_LIMITS,
};

/** Model ids, as the sync protocol allows them. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A decoded batch's `since` and `version`, parsed once by the decoder. Never mutated. */
export interface DecodedVersions {
  readonly since: VersionVector;
  readonly version: VersionVector;
}

// Batches built by `decodeChangeBatch`: their structure is known good, so `applyChanges` only
// runs the model's own checks on them, and reuses the version vectors parsed while decoding.
const decodedBatches = new WeakMap<object, DecodedVersions>();

/** True if `batch` came out of `decodeChangeBatch` (its structure is already validated). */
export const wasDecoded = (batch: object): boolean => decodedBatches.has(batch);

/** The version vectors of a batch made by `decodeChangeBatch`; undefined for any other batch. */
export const decodedVersions = (batch: object): DecodedVersions | undefined => decodedBatches.get(batch);

/**
 * Changes `start` to `end` of a decoded batch as a batch of their own, still counting as decoded
 * (no second validation). Only the slice reaching the end may be adopted, and only if the batch
 * may be and `partial` is not set: slices applied one after the other act as the parts of a
 * delta do.
 */
export function sliceDecodedBatch(batch: ChangeBatch, start: number, end: number, partial = false): ChangeBatch {
  const versions = decodedBatches.get(batch);
  if (!versions) throw new Error('sliceDecodedBatch takes a batch made by decodeChangeBatch');
  const adoptable = end >= batch.changes.length && !partial;
  const slice: ChangeBatch = { ...batch, changes: batch.changes.slice(start, end), ...(adoptable ? {} : { partial: true }) };
  decodedBatches.set(slice, versions);
  return slice;
}

/**
 * A decoded batch with other `since` and `version`, still counting as decoded. Sync protocol 5
 * sends a delta's versions apart from its batch, as differences (src/sync/compact-versions.ts); the
 * sync layer rebuilds and checks them, then puts them in here. The vectors must be valid (parsed by
 * `VersionVector.fromJSON` within the decode limits); the changes were checked already.
 */
export function withDecodedVersions(batch: ChangeBatch, since: VersionVector, version: VersionVector): ChangeBatch {
  if (!decodedBatches.has(batch)) throw new Error('withDecodedVersions takes a batch made by decodeChangeBatch');
  const rebuilt: ChangeBatch = { ...batch, since: since.toJSON(), version: version.toJSON() };
  decodedBatches.set(rebuilt, { since, version });
  return rebuilt;
}

class Malformed extends Error {}

// Hot loops decode each item with an empty location and name it only when something is wrong:
// building `changes[123].writes[0].dot` for every item that is fine costs more than the checks.
function located(error: unknown, where: string): unknown {
  return error instanceof Malformed ? new Malformed(where + error.message) : error;
}

/**
 * Parses a `ChangeBatch` from untrusted JSON (already `JSON.parse`d). Validates the whole
 * structure: format, ids, version vectors, every change, every write, value types and sizes, and
 * counts. Returns fresh objects holding only known fields, or a `DecodeError`; never throws. The
 * model's own checks (concepts, attribute types, clocks) happen in `applyChanges`.
 *
 * With `inPlace`, the caller hands over objects nobody else holds that its own code built with
 * exactly the known fields (`unpackBatch`'s output): the same checks run, and the writes,
 * timestamps, dots and children lists are kept instead of copied (a 2,000-change part of a
 * bootstrap allocated about 8,000 objects here only to drop the unpacked ones).
 */
export function decodeChangeBatch(json: unknown, limits: DecodeLimits = DECODE_LIMITS, { inPlace = false } = {}): ChangeBatch | DecodeError {
  try {
    const raw = record(json, 'batch');
    const { modelId, since, version } = envelope(raw, limits);
    const list = array(raw.changes, 'changes', 0, limits.maxChanges);
    const changes = list.map((change, i) => {
      try {
        return decodeOne(change, '', limits, inPlace);
      } catch (error) {
        throw located(error, `changes[${i}]`);
      }
    });
    if (raw.partial !== undefined && typeof raw.partial !== 'boolean') throw new Malformed('partial must be a boolean');
    const batch: ChangeBatch = {
      format: CHANGE_FORMAT,
      modelId,
      since: since.toJSON(),
      version: version.toJSON(),
      changes,
      ...(raw.partial ? { partial: true } : {}),
    };
    decodedBatches.set(batch, { since, version });
    return batch;
  } catch (error) {
    return failure(error);
  }
}

/** Parses one change from untrusted input (same rules as in `decodeChangeBatch`). */
export function decodeChange(json: unknown, limits: DecodeLimits = DECODE_LIMITS): ModelChange | DecodeError {
  try {
    return decodeOne(json, 'change', limits);
  } catch (error) {
    return failure(error);
  }
}

/** Parses a `ModelSnapshot` from untrusted input: envelope, version, and every entity state. */
export function decodeSnapshot(json: unknown, limits: DecodeLimits = DECODE_LIMITS): ModelSnapshot | DecodeError {
  try {
    const raw = record(json, 'snapshot');
    const { modelId, version: parsed } = envelope(raw, limits, false);
    const version = parsed.toJSON();
    const list = array(raw.entities, 'entities', 0, limits.maxEntities);
    const seen = new Set<string>();
    const entities = list.map((entity, i) => {
      const state = entityState(entity, `entities[${i}]`, limits);
      if (seen.has(state.oid)) throw new Malformed(`entities[${i}]: entity ${state.oid} appears twice`);
      seen.add(state.oid);
      return state;
    });
    return { format: CHANGE_FORMAT, modelId, version, entities };
  } catch (error) {
    return failure(error);
  }
}

/**
 * Parses one `EntityState` (as stored or inside a snapshot). With `inPlace`, the caller hands the
 * state over: it is checked exactly as otherwise, but its writes, timestamps, dots and child lists
 * are kept instead of copied (a room opening from storage decodes 60,000 writes of fresh objects it
 * would otherwise build twice); nothing may change them afterwards.
 */
export function decodeEntityState(json: unknown, limits: DecodeLimits = DECODE_LIMITS, { inPlace = false } = {}): EntityState | DecodeError {
  try {
    return entityState(json, 'entity', limits, inPlace);
  } catch (error) {
    return failure(error);
  }
}

/**
 * Checks the envelope of a batch that did not come from `decodeChangeBatch` (its changes are
 * checked one by one later): format, model, changes array, partial flag and both versions.
 */
export function batchEnvelopeProblem(batch: ChangeBatch, modelId: string): string | undefined {
  if (typeof batch !== 'object' || batch === null) return 'batch: not an object';
  if (batch.format !== CHANGE_FORMAT) return `batch: unsupported format ${describe(batch.format)}`;
  if (batch.modelId !== modelId) return `batch: for model ${describe(batch.modelId)}, not ${modelId}`;
  if (!Array.isArray(batch.changes)) return 'batch: changes must be an array';
  if (batch.partial !== undefined && typeof batch.partial !== 'boolean') return 'batch: partial must be a boolean';
  // The decoder parsed both versions already.
  if (decodedBatches.has(batch)) return undefined;
  try {
    VersionVector.fromJSON(batch.since);
    VersionVector.fromJSON(batch.version);
  } catch (error) {
    if (error instanceof InvalidVersionVectorError) return `batch: ${error.message}`;
    throw error;
  }
  return undefined;
}

/** True for a decode failure. */
export function isDecodeError(value: unknown): value is DecodeError {
  return typeof value === 'object' && value !== null && 'error' in value && typeof (value as DecodeError).error === 'string';
}

function failure(error: unknown): DecodeError {
  if (error instanceof Malformed) return { error: error.message };
  // Anything else is a bug here, not bad input; still never thrown at the caller's event loop.
  return { error: `could not decode: ${String(error)}` };
}

function envelope(raw: Record<string, unknown>, limits: DecodeLimits, withSince = true) {
  if (raw.format !== CHANGE_FORMAT) throw new Malformed(`unsupported format ${describe(raw.format)} (this build reads ${CHANGE_FORMAT})`);
  if (typeof raw.modelId !== 'string' || !MODEL_ID_PATTERN.test(raw.modelId)) throw new Malformed('malformed modelId');
  return {
    modelId: raw.modelId,
    since: withSince ? parseVersion(raw.since, 'since', limits) : new VersionVector(),
    version: parseVersion(raw.version, 'version', limits),
  };
}

function parseVersion(raw: unknown, what: string, limits: DecodeLimits): VersionVector {
  try {
    return VersionVector.fromJSON(raw, limits.version);
  } catch (error) {
    throw new Malformed(`${what}: ${(error as Error).message}`);
  }
}

function decodeOne(json: unknown, where: string, limits: DecodeLimits, inPlace = false): ModelChange {
  const raw = record(json, where);
  const entityType = name(raw.entityType, `${where}.entityType`);
  const oid = entityId(raw.oid, `${where}.oid`);
  switch (raw.kind) {
    case 'attribute':
      return {
        kind: 'attribute',
        entityType,
        oid,
        attribute: name(raw.attribute, `${where}.attribute`),
        writes: writes(raw.writes, `${where}.writes`, limits, inPlace),
      };
    case 'child-add':
      return {
        kind: 'child-add',
        entityType,
        oid,
        relation: name(raw.relation, `${where}.relation`),
        child: entityId(raw.child, `${where}.child`),
        dot: dot(raw.dot, `${where}.dot`, inPlace),
      };
    case 'children': {
      const relation = name(raw.relation, `${where}.relation`);
      const items = children(raw.items, `${where}.items`, limits, inPlace);
      const removals = raw.removals === undefined ? [] : marks(raw.removals, `${where}.removals`, limits);
      return { kind: 'children', entityType, oid, relation, items, ...(removals.length ? { removals } : {}) };
    }
    default:
      throw new Malformed(`${where}: unknown kind ${describe(raw.kind)}`);
  }
}

function entityState(json: unknown, where: string, limits: DecodeLimits, inPlace = false): EntityState {
  const raw = record(json, where);
  const entityType = name(raw.entityType, `${where}.entityType`);
  const oid = entityId(raw.oid, `${where}.oid`);
  const attributes: Record<string, readonly AttributeWrite[]> = {};
  for (const [key, value] of entries(raw.attributes, `${where}.attributes`, limits.maxAttributes)) {
    if (!isName(key)) throw new Malformed(`${where}.attributes key: malformed name`);
    try {
      attributes[key] = writes(value, '', limits, inPlace);
    } catch (error) {
      throw located(error, `${where}.attributes.${key}`);
    }
  }
  const relations: Record<string, ReadonlyArray<readonly [string, readonly Dot[]]>> = {};
  for (const [key, value] of entries(raw.children, `${where}.children`, limits.maxRelations)) {
    if (!isName(key)) throw new Malformed(`${where}.children key: malformed name`);
    try {
      relations[key] = children(value, '', limits, inPlace);
    } catch (error) {
      throw located(error, `${where}.children.${key}`);
    }
  }
  const state: EntityState = { entityType, oid, attributes, children: relations };
  if (raw.removals === undefined) return state;
  const removals: Record<string, readonly Dot[]> = {};
  for (const [key, value] of entries(raw.removals, `${where}.removals`, limits.maxRelations))
    removals[name(key, `${where}.removals key`)] = marks(value, `${where}.removals.${key}`, limits);
  return { ...state, removals };
}

function writes(json: unknown, where: string, limits: DecodeLimits, inPlace = false): AttributeWrite[] {
  const list = array(json, where, 1, limits.maxWrites);
  const decoded = list.map((item, i) => {
    try {
      const raw = record(item, '');
      if (inPlace) {
        value(raw.value, '.value', limits);
        timestamp(raw.ts, '.ts', true);
        dot(raw.dot, '.dot', true);
        return raw as unknown as AttributeWrite;
      }
      return { value: value(raw.value, '.value', limits), ts: timestamp(raw.ts, '.ts'), dot: dot(raw.dot, '.dot') };
    } catch (error) {
      throw located(error, `${where}[${i}]`);
    }
  });
  if (decoded.length > 1) {
    const seen = new Set<string>();
    for (const { dot } of decoded) {
      const key = `${dot.node}:${dot.seq}`;
      if (seen.has(key)) throw new Malformed(`${where}: two writes share the dot ${key}`);
      seen.add(key);
    }
  }
  return inPlace ? (list as AttributeWrite[]) : decoded;
}

function children(json: unknown, where: string, limits: DecodeLimits, inPlace = false): Array<readonly [string, readonly Dot[]]> {
  const list = array(json, where, 0, limits.maxChildren);
  let dotCount = 0;
  const decoded = list.map((item, i) => {
    try {
      const pair = array(item, '', 2, 2);
      const child = entityId(pair[0], '[0]');
      const raw = array(pair[1], '[1]', 1, limits.maxDots);
      const dots = raw.map((d, j) => {
        try {
          return dot(d, '', inPlace);
        } catch (error) {
          throw located(error, `[1][${j}]`);
        }
      });
      dotCount += dots.length;
      return [child, dots] as const;
    } catch (error) {
      throw located(error, `${where}[${i}]`);
    }
  });
  if (decoded.length > 1) {
    const seenChildren = new Set<string>();
    for (const [child] of decoded) {
      if (seenChildren.has(child)) throw new Malformed(`${where}: child ${child} appears twice`);
      seenChildren.add(child);
    }
  }
  if (dotCount > 1) {
    const seenDots = new Set<string>();
    for (const [, dots] of decoded)
      for (const { node, seq } of dots) {
        const key = `${node}:${seq}`;
        if (seenDots.has(key)) throw new Malformed(`${where}: the dot ${key} adds two children`);
        seenDots.add(key);
      }
  }
  return inPlace ? (list as Array<readonly [string, readonly Dot[]]>) : decoded;
}

function marks(json: unknown, where: string, limits: DecodeLimits): RemovalMark[] {
  const list = array(json, where, 0, limits.version.maxNodes).map((d, i) => mark(d, `${where}[${i}]`, limits));
  if (new Set(list.map((d) => d.node)).size !== list.length) throw new Malformed(`${where}: more than one mark for a node`);
  return list;
}

// A removal mark: a dot, and (but for legacy marks) the adds it removed, strictly sorted so one
// mark has one hashed form.
function mark(json: unknown, where: string, limits: DecodeLimits): RemovalMark {
  const at = dot(json, where);
  const raw = (json as Record<string, unknown>).removed;
  if (raw === undefined) return at;
  const removed = array(raw, `${where}.removed`, 0, limits.maxRemoved).map((d, i) => dot(d, `${where}.removed[${i}]`));
  for (let i = 1; i < removed.length; i++)
    if (compareDots(removed[i - 1]!, removed[i]!) >= 0) throw new Malformed(`${where}.removed: dots must be sorted, without repeats`);
  return { ...at, removed };
}

function value(json: unknown, where: string, limits: DecodeLimits): AttributeValue {
  if (json === null || typeof json === 'boolean') return json;
  if (typeof json === 'number') {
    if (!Number.isFinite(json)) throw new Malformed(`${where}: not a finite number`);
    return json;
  }
  if (typeof json === 'string') {
    if (json.length > limits.maxStringLength) throw new Malformed(`${where}: string of ${json.length} characters exceeds ${limits.maxStringLength}`);
    return json;
  }
  throw new Malformed(`${where}: values are strings, numbers, booleans or null, not ${describe(json)}`);
}

function timestamp(json: unknown, where: string, inPlace = false): Timestamp {
  const raw = record(json, where);
  if (!isCount(raw.ms) || !isCount(raw.c)) throw new Malformed(`${where}: ms and c must be non-negative safe integers`);
  return inPlace ? (raw as unknown as Timestamp) : { ms: raw.ms, c: raw.c };
}

// The last node id that passed `isNodeId`: most dots of a batch come from a few nodes.
let lastNodeId: NodeId | undefined;

function dot(json: unknown, where: string, inPlace = false): Dot {
  const raw = record(json, where);
  // Reusing the checked string also lets every dot of a node share one copy of its id.
  const node = raw.node === lastNodeId ? lastNodeId : isNodeId(raw.node) ? (lastNodeId = raw.node) : undefined;
  if (node === undefined) throw new Malformed(`${where}: malformed node id`);
  if (!isSeq(raw.seq)) throw new Malformed(`${where}: seq must be a positive safe integer, got ${describe(raw.seq)}`);
  return inPlace ? (raw as unknown as Dot) : { node, seq: raw.seq };
}

function name(json: unknown, where: string): string {
  if (!isName(json)) throw new Malformed(`${where}: malformed name`);
  return json;
}

function isName(json: unknown): json is string {
  return typeof json === 'string' && NAME_PATTERN.test(json) && json !== '__proto__';
}

// The last entity id that passed `isOid`: a delta lists an entity's changes together.
let lastOid: string | undefined;

function entityId(json: unknown, where: string): string {
  // Reusing the checked string also lets the changes of one entity share one copy of its id.
  if (typeof json === 'string' && json === lastOid) return lastOid;
  if (!isOid(json)) throw new Malformed(`${where}: malformed entity id`);
  return (lastOid = json);
}

function record(json: unknown, where: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Malformed(`${where}: expected an object, got ${describe(json)}`);
  return json as Record<string, unknown>;
}

function array(json: unknown, where: string, min: number, max: number): unknown[] {
  if (!Array.isArray(json)) throw new Malformed(`${where}: expected an array, got ${describe(json)}`);
  if (json.length < min || json.length > max) throw new Malformed(`${where}: expected ${min}–${max} items, got ${json.length}`);
  return json;
}

function entries(json: unknown, where: string, max: number): Array<[string, unknown]> {
  const list = Object.entries(record(json, where));
  if (list.length > max) throw new Malformed(`${where}: more than ${max} entries`);
  return list;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
