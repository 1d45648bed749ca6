import { type Dot, type NodeId, isNodeId, isSeq } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import type { EntityState } from '../domain/model-change.js';
import { certificateKey } from './certificate-key.js';
import { uniqueCertificates } from './certificate-records.js';
import type { RoomMetadata } from './storage-adapter.js';

/** Which kind of stored record was damaged. */
export const StorageProblemKind = {
  /** One entity's state. */
  entity: 'entity',
  /** One change certificate. */
  certificate: 'certificate',
  /** A model's version vector or commit counter. */
  version: 'version',
  /** A node identity's sequence reservation. */
  reservation: 'reservation',
  /** A node identity record as a whole (no usable node id). */
  identity: 'identity',
  /** The room's metadata record. */
  metadata: 'metadata',
} as const;
export type StorageProblemKind = (typeof StorageProblemKind)[keyof typeof StorageProblemKind];

/** A stored record that could not be read, and what was done instead of refusing to open. */
export interface StorageProblem {
  readonly kind: StorageProblemKind;
  /** The model the record belongs to; null for identities and metadata. */
  readonly modelId: string | null;
  /** Which record: an oid, a certificate key, a model id, a node id, or `room`. */
  readonly key: string;
  /** Why it could not be read. */
  readonly reason: string;
  /** What was done instead, in words for the user. */
  readonly recovery: string;
  /** When it was found (ms since the epoch). */
  readonly at: number;
}

/** A damaged record kept aside in the quarantine store: the problem and the value as it was stored. */
export interface QuarantinedRecord extends StorageProblem {
  readonly value: unknown;
}

/** A record of a model that `load` could not even hand out (and so did not). */
export interface DamagedRecord {
  readonly kind: 'entity' | 'certificate' | 'version';
  readonly key: string;
  readonly reason: string;
  /** The entity or certificate bytes as loaded. */
  readonly value?: unknown;
  /** Set when a whole chunk of entities could not be read (IndexedDB layout): the chunk's `start`. */
  readonly chunk?: string;
  /** Set when a log record could not be read (IndexedDB layout): its commit. */
  readonly log?: number;
}

/** A record of a model to move aside: by key, or (certificates) by content. */
export interface QuarantineRequest {
  readonly kind: 'entity' | 'certificate' | 'version';
  /** The oid, the certificate key, or the model id. */
  readonly key?: string;
  /** A certificate's bytes as loaded, when its key is not known. */
  readonly bytes?: Uint8Array;
  /**
   * The entity or certificate as loaded: the record is moved only while it still holds this (a tab
   * may have stored a healthy copy in between, which must stay).
   */
  readonly value?: unknown;
  /** A whole chunk of entities to move aside (IndexedDB layout): the chunk's `start`, from `DamagedRecord.chunk`. */
  readonly chunk?: string;
  /** A log record to move aside (IndexedDB layout): its commit, from `DamagedRecord.log`. */
  readonly log?: number;
  readonly reason: string;
}

/**
 * The stored version's claims to give up with the quarantined records: every dot (`all`), or per
 * node every dot after a seq. A version that claims less than the data holds only costs a record
 * sent twice; one that claims a dot no record holds makes peers never send that dot again.
 */
export type ClaimsToForget = 'all' | ReadonlyMap<NodeId, number>;

const RECOVERY: Record<StorageProblemKind, string> = {
  entity: 'Kept aside; the rest of the room opened, and peers send this entity again.',
  certificate: 'Kept aside; peers send the signature again with the items it covers.',
  version: 'Kept aside; this device asks its peers for everything again (nothing stored is dropped).',
  reservation: 'Kept aside; this device continues a block beyond every seq of it found in storage.',
  identity: 'Left where it is, unused; this device takes another identity.',
  metadata: 'Kept aside; the room opened with the fields that were valid.',
};

/** What is done with a damaged record of this kind, for the user. */
export const recoveryOf = (kind: StorageProblemKind): string => RECOVERY[kind];

/** The recovery of a damaged reservation, for the user. */
export const recoveredReservation = (previous: number): string =>
  `Kept aside; this device continues above seq ${previous}, a block beyond every seq of it found in storage.`;

/**
 * The key of the stored certificate holding `bytes`: its content key, or, for bytes damaged after
 * they were stored (which no longer match their key), the key of the record that holds them.
 */
export function findCertificateKey(certificates: ReadonlyMap<string, { readonly bytes: unknown }>, bytes: Uint8Array | undefined): string | undefined {
  if (!bytes) return undefined;
  const key = certificateKey(bytes);
  if (certificates.has(key)) return key;
  for (const [stored, record] of certificates) if (sameBytes(record.bytes, bytes)) return stored;
  return undefined;
}

/** True if a stored entity or certificate still holds `loaded` (as `load` handed it out). */
export function stillHolds(stored: unknown, loaded: unknown): boolean {
  if (loaded instanceof Uint8Array) return sameBytes(stored, loaded);
  if (stored instanceof Uint8Array) return false;
  try {
    return JSON.stringify(stored) === JSON.stringify(loaded);
  } catch {
    return false;
  }
}

/** True if `stored` holds exactly `bytes`. */
export function sameBytes(stored: unknown, bytes: Uint8Array): boolean {
  return stored instanceof Uint8Array && stored.length === bytes.length && stored.every((byte, i) => byte === bytes[i]);
}

/** Why an entity record cannot be handed to the model at all, or undefined if it has the right shape. */
export function entityRecordProblem(oid: string, entity: unknown): string | undefined {
  if (typeof entity !== 'object' || entity === null || Array.isArray(entity)) return `entity ${oid} is stored as ${describe(entity)}`;
  const { oid: storedOid, entityType, attributes, children } = entity as Record<string, unknown>;
  if (storedOid !== oid) return `entity stored under ${oid} names itself ${describe(storedOid)}`;
  if (typeof entityType !== 'string') return `entity ${oid} has no concept`;
  if (!isPlainObject(attributes) || !isPlainObject(children)) return `entity ${oid} has no attributes or children`;
  return undefined;
}

/** A stored model record read leniently: a damaged version or commit is reported, never thrown. */
export function readModelRecord(raw: unknown): { version: VersionVector; commit: number; problem?: string } {
  if (raw === undefined) return { version: new VersionVector(), commit: 0 };
  const record = isPlainObject(raw) ? raw : {};
  const commit = Number.isSafeInteger(record.commit) && (record.commit as number) >= 0 ? (record.commit as number) : 0;
  try {
    const version = VersionVector.fromJSON(record.version);
    if (commit !== record.commit) return { version, commit, problem: `the commit counter is ${describe(record.commit)}` };
    return { version, commit };
  } catch (error) {
    return { version: new VersionVector(), commit, problem: `the version vector is damaged (${(error as Error).message})` };
  }
}

/** A stored reservation, or undefined if it is not a non-negative safe integer. */
export function readReservation(raw: unknown): number | undefined {
  if (!isPlainObject(raw)) return undefined;
  const value = raw.reservedUpTo;
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

/** Room metadata with every field that has the wrong type dropped, and what was wrong. */
export function sanitizeMetadata(raw: unknown): { metadata: RoomMetadata; problem?: string } {
  if (raw === undefined) return { metadata: {} };
  if (!isPlainObject(raw)) return { metadata: {}, problem: `the room metadata is stored as ${describe(raw)}` };
  const problems: string[] = [];
  const metadata: { -readonly [K in keyof RoomMetadata]: RoomMetadata[K] } = {};
  if (raw.createdAt !== undefined) {
    if (Number.isFinite(raw.createdAt)) metadata.createdAt = raw.createdAt as number;
    else problems.push('createdAt');
  }
  if (raw.persistenceGranted !== undefined) {
    if (typeof raw.persistenceGranted === 'boolean' || raw.persistenceGranted === 'unsupported') metadata.persistenceGranted = raw.persistenceGranted;
    else problems.push('persistenceGranted');
  }
  if (raw.firstPeerAt !== undefined) {
    if (Number.isFinite(raw.firstPeerAt)) metadata.firstPeerAt = raw.firstPeerAt as number;
    else problems.push('firstPeerAt');
  }
  if (raw.acknowledgedOwnSeq !== undefined) {
    const acknowledged: Record<string, number> = {};
    let bad = !isPlainObject(raw.acknowledgedOwnSeq);
    for (const [key, seq] of Object.entries(isPlainObject(raw.acknowledgedOwnSeq) ? raw.acknowledgedOwnSeq : {}))
      if (Number.isSafeInteger(seq) && (seq as number) >= 0) acknowledged[key] = seq as number;
      else bad = true;
    metadata.acknowledgedOwnSeq = acknowledged;
    if (bad) problems.push('acknowledgedOwnSeq');
  }
  return problems.length ? { metadata, problem: `the room metadata has damaged fields (${problems.join(', ')})` } : { metadata };
}

/**
 * The claims to give up for quarantined entity states (as stored, unchecked): per node, every dot
 * from the lowest the states hold. If any state's dots cannot be read, all claims.
 */
export function claimsOf(states: readonly unknown[]): ClaimsToForget {
  const lowest = new Map<NodeId, number>();
  const note = (dot: unknown): boolean => {
    if (!isPlainObject(dot) || !isNodeId(dot.node) || !isSeq(dot.seq)) return false;
    const { node, seq } = dot as unknown as Dot;
    lowest.set(node, Math.min(lowest.get(node) ?? Infinity, seq - 1));
    return true;
  };
  for (const state of states) {
    if (!isPlainObject(state) || !isPlainObject(state.attributes) || !isPlainObject(state.children)) return 'all';
    for (const writes of Object.values(state.attributes)) {
      if (!Array.isArray(writes)) return 'all';
      for (const write of writes) if (!isPlainObject(write) || !note(write.dot)) return 'all';
    }
    for (const items of Object.values(state.children)) {
      if (!Array.isArray(items)) return 'all';
      for (const item of items) if (!Array.isArray(item) || !Array.isArray(item[1]) || !item[1].every(note)) return 'all';
    }
    if (state.removals !== undefined) {
      if (!isPlainObject(state.removals)) return 'all';
      for (const marks of Object.values(state.removals)) if (!Array.isArray(marks) || !marks.every(note)) return 'all';
    }
  }
  return lowest;
}

/** Joins two sets of claims to give up. */
export function joinClaims(a: ClaimsToForget, b: ClaimsToForget): ClaimsToForget {
  if (a === 'all' || b === 'all') return 'all';
  const joined = new Map(a);
  for (const [node, after] of b) joined.set(node, Math.min(joined.get(node) ?? Infinity, after));
  return joined;
}

/** `claims` without those of `node` (`all` meaning every node of `version`). */
export function keepClaimsOf(claims: ClaimsToForget, node: NodeId, version: VersionVector): ClaimsToForget {
  const kept = new Map(claims === 'all' ? [...version.nodes()].map((other) => [other, 0] as const) : claims);
  kept.delete(node);
  return kept;
}

/** True if nothing is to be given up. */
export const forgetsNothing = (claims: ClaimsToForget): boolean => claims !== 'all' && claims.size === 0;

/** `version` without the given claims (in place), returned. */
export function forgetClaims(version: VersionVector, claims: ClaimsToForget): VersionVector {
  if (claims === 'all') {
    for (const node of [...version.nodes()]) version.forgetAfter(node, 0);
    return version;
  }
  for (const [node, after] of claims) version.forgetAfter(node, after);
  return version;
}

/** True if `claims` gives up dots of `node`. */
export const forgetsDotsOf = (claims: ClaimsToForget, node: NodeId): boolean => claims === 'all' || claims.has(node);

/**
 * The highest seq of `node` that stored model records or entity states show (read leniently, for
 * recovering a damaged reservation: every seq found there was certainly used).
 */
export function highestStoredSeq(node: NodeId, models: readonly unknown[], entities: readonly unknown[]): number {
  let highest = 0;
  for (const model of models) highest = Math.max(highest, readModelRecord(model).version.maxSeen(node));
  for (const entity of entities) for (const seq of dotSeqsOf(entity, node)) highest = Math.max(highest, seq);
  return highest;
}

// Every `{node, seq}` of `node` anywhere in a stored state, however damaged the rest is.
function dotSeqsOf(state: unknown, node: NodeId): number[] {
  const seqs: number[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isPlainObject(value)) {
      if (value.node === node && isSeq(value.seq)) seqs.push(value.seq as number);
      else Object.values(value).forEach(visit);
    }
  };
  visit(state);
  return seqs;
}

/** One line for the user about a problem. */
export function describeStorageProblem(problem: StorageProblem): string {
  const where = problem.modelId ? ` of ${problem.modelId}` : '';
  return `Damaged ${problem.kind} record${where} (${problem.key}): ${problem.reason}. ${problem.recovery}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' ? String(value) : typeof value;
}

/** A stored entity record as adapters hold it. */
export interface RawEntityRecord {
  readonly oid: string;
  readonly entity: unknown;
}

/** A stored certificate record as adapters hold it. */
export interface RawCertificateRecord {
  readonly key: string;
  readonly bytes: unknown;
}

/**
 * What `load` hands out, from stored records read leniently: entities of the wrong shape, bytes
 * that are not bytes and a damaged version are left out and listed as `damaged` (the version then
 * claims nothing), so one bad record never keeps the room from opening.
 */
export function screenStoredModel(
  modelId: string,
  model: unknown,
  entities: readonly RawEntityRecord[],
  certificates: readonly RawCertificateRecord[],
): { version: VersionVector; commit: number; entities: EntityState[]; certificates: Uint8Array[]; damaged?: DamagedRecord[] } {
  const damaged: DamagedRecord[] = [];
  const { version, commit, problem } = readModelRecord(model);
  if (problem) damaged.push({ kind: 'version', key: modelId, reason: problem });
  const good: EntityState[] = [];
  for (const record of entities) {
    const reason = entityRecordProblem(record.oid, record.entity);
    if (reason) damaged.push({ kind: 'entity', key: record.oid, reason, value: record.entity });
    else good.push(record.entity as EntityState);
  }
  const found: Uint8Array[] = [];
  for (const record of certificates)
    if (record.bytes instanceof Uint8Array) found.push(record.bytes);
    else damaged.push({ kind: 'certificate', key: record.key, reason: `the certificate is stored as ${describe(record.bytes)}`, value: record.bytes });
  const bytes = uniqueCertificates(found);
  return damaged.length ? { version, commit, entities: good, certificates: bytes, damaged } : { version, commit, entities: good, certificates: bytes };
}

/**
 * Claims to give up when certificates were lost: per author other than `self` (whose items are
 * signed again on registration), every dot from the lowest one the stored states hold that no
 * certificate vouches for, so peers send those items again with their certificates.
 */
export function uncertifiedClaims(states: readonly unknown[], certified: (dot: Dot) => boolean, self: NodeId): ClaimsToForget {
  const lowest = new Map<NodeId, number>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isPlainObject(value)) {
      if (isNodeId(value.node) && isSeq(value.seq)) {
        const dot = value as unknown as Dot;
        if (dot.node !== self && !certified(dot)) lowest.set(dot.node, Math.min(lowest.get(dot.node) ?? Infinity, dot.seq - 1));
      } else Object.values(value).forEach(visit);
    }
  };
  visit(states);
  return lowest;
}
