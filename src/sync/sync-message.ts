import { DIGEST_BUCKETS, type NodeId, VersionVector, bucketListProblem, isNodeId } from '../crdt/index.js';
import { type ChangeBatch, DECODE_LIMITS, type VersionVectorJSON, MODEL_ID_PATTERN, decodeChangeBatch } from '../domain/index.js';
import { BASE64URL_PATTERN } from '../util/base64url.js';
import { MAX_CERTIFICATE_BYTES } from '../security/change-certificate.js';
import { packBatch, unpackBatch } from './compact-batch.js';
import { type BroadcastMessage, decodeBroadcastMessage, decodeRoots } from './broadcast/broadcast-message.js';
import { type CompactVersions, decodeCompactVersions } from './compact-versions.js';
import { decodeUtf8, encodeUtf8 } from '../util/utf8.js';

/**
 * Sync protocol versions this build speaks; the handshake picks the highest both sides know.
 * Protocol 2 is protocol 1 with deltas in the compact form (`packBatch`); protocol 3 is protocol 2
 * with large frames compressed (`compressFrame`); protocol 4 is protocol 3 with epidemic
 * broadcast (`ihave`, `graft`, `prune`; src/sync/broadcast/); protocol 5 is protocol 4 with the
 * versions of deltas, acks and version reports sent as differences (`cv`, src/sync/compact-versions.ts);
 * protocol 6 is protocol 5 with a broadcast tree per writer (`roots` on `graft`, `prune` and acks).
 */
export const SYNC_PROTOCOLS: readonly number[] = [1, 2, 3, 4, 5, 6];

/** Whether an agreed protocol lets large frames travel compressed. */
export const compressesFrames = (protocol: number | null): boolean => protocol !== null && protocol >= 3;

/** How a delta's batch is written: plain `ChangeBatch` JSON, or the compact tables and tuples. */
export type DeltaEncoding = 'json' | 'compact';

/** The delta encoding of an agreed protocol; before the handshake (null) only JSON is safe. */
export function deltaEncodingFor(protocol: number | null): DeltaEncoding {
  return protocol !== null && protocol >= 2 ? 'compact' : 'json';
}

/** Display names are capped; longer ones are refused rather than cut, so a peer sees its own name. */
export const MAX_DISPLAY_NAME_CHARS = 64;

/**
 * Opens every connection. `models` maps each model this node holds to its version, so the other
 * side can send exactly what is missing. Peers prove their node ids before the first sync
 * message (see docs/security.md); `auth` is carried through unread, room for credentials a later
 * protocol version may add (for example signed-change certificates).
 */
export interface HelloMessage {
  readonly t: 'hello';
  readonly protocols: readonly number[];
  readonly node: string;
  readonly models: Readonly<Record<string, VersionVectorJSON>>;
  /** The name the user gave this device, shown to peers; null if none. */
  readonly name?: string | null;
  /** Per model, the digest of the state held, where it is exactly the state of `models` (see `DigestReport`). */
  readonly digests?: Readonly<Record<string, string>>;
  readonly auth?: unknown;
}

/**
 * A digest of the sender's state (`DomainModel.digest().root`, 16 hex digits), sent along with a
 * version only when the sender holds exactly that version (nothing unsaved beyond it). Peers with
 * equal versions and different digests hold different states: they repair (`buckets`, `repair`).
 */
export interface DigestReport {
  readonly digest?: string;
}

/** The sender's display name changed. */
export interface InfoMessage {
  readonly t: 'info';
  readonly name: string | null;
}

/**
 * Changes the receiver lacks (on the wire as `batch`, or as `packed` in protocol 2). `seq` numbers the deltas sent on this connection (1, 2, …; every
 * part of one delta has the same); `part`/`parts` number the pieces of a large delta.
 */
export interface DeltaMessage {
  readonly t: 'delta';
  readonly seq: number;
  readonly part: number;
  readonly parts: number;
  readonly batch: ChangeBatch;
  /**
   * Where changes are signed: the authors' certificates of every item in `batch` (encoded, see
   * `encodeCertificate`), checked by the receiver before anything is applied.
   */
  readonly certs?: readonly string[];
  /** On the last part: the sender's digest, where it holds exactly the batch's version. */
  readonly digest?: string;
  /**
   * Protocol 5: the batch's `since` and `version` as differences (the batch carries both empty),
   * rebuilt on arrival (`VersionCodec`) before anything else reads the delta.
   */
  readonly cv?: CompactVersions;
}

/**
 * Sent after the last part of a delta: the receiver's version now, and `seen`, the highest delta
 * seq it has received on this connection. `complete: false` means it could not adopt the delta's
 * version (it lacked what the delta assumed, or refused part of it).
 */
export interface AckMessage extends DigestReport {
  readonly t: 'ack';
  readonly model: string;
  readonly version: VersionVectorJSON;
  readonly complete: boolean;
  readonly seen: number;
  /** Protocol 4: the delta brought nothing new (it came by another path first), so the link turns lazy (a `prune`). */
  readonly prune?: boolean;
  /** Protocol 6, with `prune`: the writers whose trees lose the link (absent: the shared tree). */
  readonly roots?: readonly NodeId[];
  /** Protocol 5: `version` as differences (`version` is then empty on the wire), rebuilt on arrival. */
  readonly cv?: CompactVersions;
}

/**
 * "This is what I have; send me what I lack." A `request` (anti-entropy, an explicit sync, a
 * model announcement) is always answered with a version that is not one. `sent` is the last delta
 * seq the sender sent on this connection, so the receiver knows any delta up to it either arrived
 * or was lost; `seen` as in `AckMessage`.
 */
export interface VersionMessage extends DigestReport {
  readonly t: 'version';
  readonly model: string;
  readonly version: VersionVectorJSON;
  readonly request: boolean;
  readonly sent: number;
  readonly seen: number;
  /** Protocol 5: `version` as differences (`version` is then empty on the wire), rebuilt on arrival. */
  readonly cv?: CompactVersions;
  /**
   * Protocol 5, on a request: the compact versions the receiver sent here did not add up (a frame
   * lost or refused on the way), so it answers with its whole version, and both sides go on from it.
   */
  readonly rebase?: boolean;
}

/** "Our versions are equal, our digests are not": the sender's 256 bucket hashes of `model`. */
export interface BucketsMessage {
  readonly t: 'buckets';
  readonly model: string;
  readonly version: VersionVectorJSON;
  readonly buckets: readonly string[];
}

/**
 * The sender's entity states in the buckets where the two digests differ, to join as a repair
 * (`DomainModel.repairEntities`). Answered once with the receiver's own (`reply`). Entity states
 * are untrusted: the model validates them, and where changes are signed every item needs its
 * author's certificate (`certs`), as in a delta.
 */
export interface RepairMessage {
  readonly t: 'repair';
  readonly model: string;
  readonly version: VersionVectorJSON;
  readonly buckets: readonly number[];
  readonly entities: readonly unknown[];
  readonly reply: boolean;
  readonly certs?: readonly string[];
}

/** Sent before closing a connection on purpose (unsupported protocol, repeated bad frames). */
export interface ErrorMessage {
  readonly t: 'error';
  readonly reason: string;
}

/** Every message of the sync protocol. */
export type SyncMessage =
  | HelloMessage
  | DeltaMessage
  | AckMessage
  | VersionMessage
  | BucketsMessage
  | RepairMessage
  | InfoMessage
  | ErrorMessage
  | BroadcastMessage;

/** A refused frame, with the reason. */
export interface SyncDecodeError {
  readonly error: string;
}

const MAX_MODELS = 64;
const MAX_PARTS = 1_000_000;
// A part has at most as many certificates as items; a generous bound on both.
const MAX_CERTIFICATES_PER_DELTA = 1_000_000;
const MAX_ENCODED_CERTIFICATE = Math.ceil((MAX_CERTIFICATE_BYTES * 4) / 3);


/**
 * Deltas with fewer changes travel as plain JSON even between protocol-2 peers: a live edit is a
 * few hundred bytes either way, and plain JSON decodes faster than tables to unpack, so packing
 * pays only where bytes add up (bootstraps, catching up after being offline).
 */
export const PACK_MIN_CHANGES = 8;

/**
 * Serializes a message for a `PeerConnection`. With `compact`, a delta of at least
 * `PACK_MIN_CHANGES` changes carries `packed` (the batch's compact form) instead of `batch`; only
 * peers that agreed on protocol 2 read it.
 */
export function encodeSyncMessage(message: SyncMessage, encoding: DeltaEncoding = 'json'): Uint8Array {
  if (encoding === 'compact' && message.t === 'delta' && message.batch.changes.length >= PACK_MIN_CHANGES) {
    const { batch, ...envelope } = message;
    return encodeUtf8(JSON.stringify({ ...envelope, packed: packBatch(batch) }));
  }
  return encodeUtf8(JSON.stringify(message));
}

/**
 * Parses and validates one frame from a peer, version vectors included. Never throws: anything
 * malformed comes back as a `SyncDecodeError`, because a peer may be buggy or hostile.
 */
export function decodeSyncMessage(bytes: Uint8Array, maxBytes: number): SyncMessage | SyncDecodeError {
  if (bytes.byteLength > maxBytes) return { error: `frame of ${bytes.byteLength} bytes exceeds ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(bytes));
  } catch {
    return { error: 'frame is not UTF-8 JSON' };
  }
  if (!isRecord(raw)) return { error: 'frame is not a JSON object' };
  switch (raw.t) {
    case 'hello':
      return decodeHello(raw);
    case 'delta':
      return decodeDelta(raw);
    case 'ack':
    case 'version':
      return decodeVersionLike(raw);
    case 'buckets':
      return decodeBuckets(raw);
    case 'repair':
      return decodeRepair(raw);
    case 'ihave':
    case 'graft':
    case 'prune':
      return decodeBroadcastMessage(raw);
    case 'info':
      return isDisplayName(raw.name) ? { t: 'info', name: raw.name } : { error: 'info: name must be null or a short string' };
    case 'error':
      return typeof raw.reason === 'string' && raw.reason.length <= 1000
        ? { t: 'error', reason: raw.reason }
        : { error: 'error frame without a short reason' };
    default:
      return { error: `unknown message type ${JSON.stringify(String(raw.t)).slice(0, 40)}` };
  }
}

/** True for a decode failure. */
export function isDecodeError(value: SyncMessage | SyncDecodeError): value is SyncDecodeError {
  return 'error' in value;
}

function decodeHello(raw: Record<string, unknown>): HelloMessage | SyncDecodeError {
  const { protocols, node, models } = raw;
  if (!Array.isArray(protocols) || protocols.length === 0 || protocols.length > 16)
    return { error: 'hello: protocols must be a short non-empty list' };
  if (!protocols.every((p) => Number.isSafeInteger(p) && p > 0)) return { error: 'hello: bad protocol number' };
  if (!isNodeId(node)) return { error: 'hello: bad node id' };
  if (!isRecord(models)) return { error: 'hello: models must be an object' };
  const entries = Object.entries(models);
  if (entries.length > MAX_MODELS) return { error: `hello: more than ${MAX_MODELS} models` };
  const versions: Array<[string, VersionVectorJSON]> = [];
  for (const [id, version] of entries) {
    if (!MODEL_ID_PATTERN.test(id)) return { error: 'hello: bad model id' };
    const parsed = parseVersion(version);
    if ('error' in parsed) return { error: `hello: ${parsed.error}` };
    versions.push([id, parsed]);
  }
  const name = raw.name ?? null;
  if (!isDisplayName(name)) return { error: 'hello: name must be null or a short string' };
  let digests: Record<string, string> | undefined;
  if (raw.digests !== undefined) {
    if (!isRecord(raw.digests) || Object.keys(raw.digests).length > MAX_MODELS) return { error: 'hello: digests must be an object' };
    const entries = Object.entries(raw.digests);
    if (!entries.every(([id, digest]) => MODEL_ID_PATTERN.test(id) && isDigest(digest))) return { error: 'hello: bad digest' };
    digests = Object.fromEntries(entries as Array<[string, string]>);
  }
  // fromEntries defines own properties, so even a model id like `__proto__` stays an entry.
  return { t: 'hello', protocols: protocols as number[], node, models: Object.fromEntries(versions), name, ...(digests ? { digests } : {}), auth: raw.auth };
}

function decodeDelta(raw: Record<string, unknown>): DeltaMessage | SyncDecodeError {
  const { seq, part, parts } = raw;
  if (!isCount(seq) || seq < 1) return { error: 'delta: bad seq' };
  if (!isCount(parts) || parts < 1 || parts > MAX_PARTS) return { error: 'delta: bad parts' };
  if (!isCount(part) || part < 1 || part > parts) return { error: 'delta: bad part' };
  let json = raw.batch;
  if (raw.packed !== undefined) {
    if (json !== undefined) return { error: 'delta: batch and packed together' };
    // Unpacked to the plain shape, then validated by the same decoder as a JSON batch.
    const unpacked = unpackBatch(raw.packed);
    if ('error' in unpacked) return { error: `delta: ${unpacked.error}` };
    json = unpacked.batch;
  }
  // What `unpackBatch` built is held by nothing else and has only the known fields: checked in place.
  const batch = decodeChangeBatch(json, DECODE_LIMITS, { inPlace: raw.packed !== undefined });
  if ('error' in batch) return { error: `delta: ${batch.error}` };
  // The last part may be partial too: then its version is context only, never adopted.
  if (part !== parts && !batch.partial) return { error: 'delta: a part before the last must be partial' };
  if (raw.digest !== undefined && !isDigest(raw.digest)) return { error: 'delta: bad digest' };
  let cv: CompactVersions | undefined;
  if (raw.cv !== undefined) {
    const decoded = decodeCompactVersions(raw.cv, true);
    if ('error' in decoded) return { error: `delta: ${decoded.error}` };
    // The batch's own versions stay empty, so nothing reads a half-built one by mistake.
    if (Object.keys(batch.since).length > 0 || Object.keys(batch.version).length > 0) return { error: 'delta: cv with a batch that has versions' };
    cv = decoded;
  }
  const digest = { ...(raw.digest === undefined ? {} : { digest: raw.digest as string }), ...(cv ? { cv } : {}) };
  if (raw.certs === undefined) return { t: 'delta', seq, part, parts, batch, ...digest };
  // Only the shape here; each certificate is decoded and verified before the batch is applied.
  const { certs } = raw;
  if (!Array.isArray(certs) || certs.length > MAX_CERTIFICATES_PER_DELTA) return { error: 'delta: certs must be a list of certificates' };
  if (!certs.every((text) => typeof text === 'string' && text.length <= MAX_ENCODED_CERTIFICATE && BASE64URL_PATTERN.test(text)))
    return { error: 'delta: a certificate is not a short base64url string' };
  return { t: 'delta', seq, part, parts, batch, certs, ...digest };
}

function decodeVersionLike(raw: Record<string, unknown>): AckMessage | VersionMessage | SyncDecodeError {
  const { model, seen } = raw;
  if (typeof model !== 'string' || !MODEL_ID_PATTERN.test(model)) return { error: `${raw.t}: bad model id` };
  let cv: CompactVersions | undefined;
  if (raw.cv !== undefined) {
    const decoded = decodeCompactVersions(raw.cv, false);
    if ('error' in decoded) return { error: `${raw.t}: ${decoded.error}` };
    cv = decoded;
  }
  const version = parseVersion(raw.version);
  if ('error' in version) return { error: `${raw.t}: ${version.error}` };
  // In the compact form the version is rebuilt on arrival; empty until then.
  if (cv && Object.keys(version).length > 0) return { error: `${raw.t}: version and cv together` };
  if (!isCount(seen)) return { error: `${raw.t}: seen must be a non-negative integer` };
  if (raw.digest !== undefined && !isDigest(raw.digest)) return { error: `${raw.t}: bad digest` };
  const digest = { ...(raw.digest === undefined ? {} : { digest: raw.digest as string }), ...(cv ? { cv } : {}) };
  if (raw.t === 'version') {
    if (!isCount(raw.sent)) return { error: 'version: sent must be a non-negative integer' };
    if (typeof raw.request !== 'boolean') return { error: 'version: request must be a boolean' };
    if (raw.rebase !== undefined && !(raw.rebase === true && raw.request)) return { error: 'version: rebase must be true, on a request' };
    return { t: 'version', model, version, request: raw.request, sent: raw.sent, seen, ...digest, ...(raw.rebase ? { rebase: true } : {}) };
  }
  if (typeof raw.complete !== 'boolean') return { error: 'ack: complete must be a boolean' };
  const roots = decodeRoots(raw.roots);
  if (roots !== undefined && ('error' in roots || raw.prune !== true)) return { error: `ack: ${roots && 'error' in roots ? roots.error : 'roots without prune'}` };
  return { t: 'ack', model, version, complete: raw.complete, seen, ...digest, ...(raw.prune === true ? { prune: true } : {}), ...(roots ? { roots: roots.roots } : {}) };
}

function decodeBuckets(raw: Record<string, unknown>): BucketsMessage | SyncDecodeError {
  const { model } = raw;
  if (typeof model !== 'string' || !MODEL_ID_PATTERN.test(model)) return { error: 'buckets: bad model id' };
  const version = parseVersion(raw.version);
  if ('error' in version) return { error: `buckets: ${version.error}` };
  const problem = bucketListProblem(raw.buckets);
  if (problem) return { error: `buckets: ${problem}` };
  return { t: 'buckets', model, version, buckets: raw.buckets as string[] };
}

function decodeRepair(raw: Record<string, unknown>): RepairMessage | SyncDecodeError {
  const { model, buckets, entities, reply, certs } = raw;
  if (typeof model !== 'string' || !MODEL_ID_PATTERN.test(model)) return { error: 'repair: bad model id' };
  const version = parseVersion(raw.version);
  if ('error' in version) return { error: `repair: ${version.error}` };
  if (!Array.isArray(buckets) || buckets.length > DIGEST_BUCKETS || !buckets.every((b) => Number.isInteger(b) && b >= 0 && b < DIGEST_BUCKETS))
    return { error: 'repair: bad bucket list' };
  // Entity states are checked by the model (`repairEntities`), like stored or snapshot state.
  if (!Array.isArray(entities) || entities.length > DECODE_LIMITS.maxEntities) return { error: 'repair: entities must be a list' };
  if (typeof reply !== 'boolean') return { error: 'repair: reply must be a boolean' };
  if (certs !== undefined) {
    if (!Array.isArray(certs) || certs.length > MAX_CERTIFICATES_PER_DELTA) return { error: 'repair: certs must be a list of certificates' };
    if (!certs.every((text) => typeof text === 'string' && text.length <= MAX_ENCODED_CERTIFICATE && BASE64URL_PATTERN.test(text)))
      return { error: 'repair: a certificate is not a short base64url string' };
  }
  return { t: 'repair', model, version, buckets: buckets as number[], entities, reply, ...(certs ? { certs: certs as string[] } : {}) };
}

function isDigest(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{16}$/.test(value);
}

function parseVersion(version: unknown): VersionVectorJSON | SyncDecodeError {
  try {
    return VersionVector.fromJSON(version).toJSON();
  } catch (error) {
    return { error: `version: ${(error as Error).message}` };
  }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isDisplayName(value: unknown): value is string | null {
  return value === null || (typeof value === 'string' && value.length <= MAX_DISPLAY_NAME_CHARS);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
