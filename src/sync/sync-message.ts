import type { ChangeBatch, VersionVectorJSON } from '../domain/model-change.js';
import { decodeChangeBatch } from '../domain/index.js';

/** Sync protocol versions this build speaks; the handshake picks the highest both sides know. */
export const SYNC_PROTOCOLS: readonly number[] = [1];

/**
 * Opens every connection. `models` maps each model this node holds to its version, so the other
 * side can send exactly what is missing. `auth` is reserved for signed handshakes.
 */
export interface HelloMessage {
  readonly t: 'hello';
  readonly protocols: readonly number[];
  readonly node: string;
  readonly models: Readonly<Record<string, VersionVectorJSON>>;
  readonly auth?: unknown;
}

/** Changes the receiver lacks. `part`/`parts` number the pieces of a large delta. */
export interface DeltaMessage {
  readonly t: 'delta';
  readonly batch: ChangeBatch;
  readonly part: number;
  readonly parts: number;
}

/**
 * Sent after applying a delta: the receiver's version now. `complete: false` means the delta
 * assumed state the receiver lacked, so the sender must recompute from this version.
 */
export interface AckMessage {
  readonly t: 'ack';
  readonly model: string;
  readonly version: VersionVectorJSON;
  readonly complete: boolean;
}

/** Anti-entropy and explicit sync requests: "this is what I have; send me what I lack". */
export interface VersionMessage {
  readonly t: 'version';
  readonly model: string;
  readonly version: VersionVectorJSON;
}

/** Sent before closing a connection on purpose (unsupported protocol, repeated bad frames). */
export interface ErrorMessage {
  readonly t: 'error';
  readonly reason: string;
}

/** Every message of the sync protocol. */
export type SyncMessage = HelloMessage | DeltaMessage | AckMessage | VersionMessage | ErrorMessage;

/** A refused frame, with the reason. */
export interface SyncDecodeError {
  readonly error: string;
}

const MODEL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_MODELS = 64;
const MAX_VECTOR_NODES = 10_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Serializes a message for a `PeerConnection`. */
export function encodeSyncMessage(message: SyncMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Parses and validates one frame from a peer. Never throws: anything malformed comes back as a
 * `SyncDecodeError`, because a peer may be buggy or hostile.
 */
export function decodeSyncMessage(bytes: Uint8Array, maxBytes: number): SyncMessage | SyncDecodeError {
  if (bytes.byteLength > maxBytes) return { error: `frame of ${bytes.byteLength} bytes exceeds ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
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
  if (typeof node !== 'string' || !NODE_ID.test(node)) return { error: 'hello: bad node id' };
  if (!isRecord(models)) return { error: 'hello: models must be an object' };
  const entries = Object.entries(models);
  if (entries.length > MAX_MODELS) return { error: `hello: more than ${MAX_MODELS} models` };
  for (const [id, version] of entries) {
    if (!MODEL_ID.test(id)) return { error: 'hello: bad model id' };
    const problem = checkVersionShape(version);
    if (problem) return { error: `hello: ${problem}` };
  }
  return { t: 'hello', protocols: protocols as number[], node, models: models as Record<string, VersionVectorJSON>, auth: raw.auth };
}

function decodeDelta(raw: Record<string, unknown>): DeltaMessage | SyncDecodeError {
  const { part, parts } = raw;
  if (!Number.isSafeInteger(parts) || (parts as number) < 1 || (parts as number) > 1_000_000)
    return { error: 'delta: bad parts' };
  if (!Number.isSafeInteger(part) || (part as number) < 1 || (part as number) > (parts as number))
    return { error: 'delta: bad part' };
  const batch = decodeChangeBatch(raw.batch);
  if ('error' in batch) return { error: `delta: ${batch.error}` };
  if (Boolean(batch.partial) !== (part !== parts)) return { error: 'delta: partial flag disagrees with part numbers' };
  return { t: 'delta', batch, part: part as number, parts: parts as number };
}

function decodeVersionLike(raw: Record<string, unknown>): AckMessage | VersionMessage | SyncDecodeError {
  const { model, version } = raw;
  if (typeof model !== 'string' || !MODEL_ID.test(model)) return { error: `${raw.t}: bad model id` };
  const problem = checkVersionShape(version);
  if (problem) return { error: `${raw.t}: ${problem}` };
  const vector = version as VersionVectorJSON;
  if (raw.t === 'version') return { t: 'version', model, version: vector };
  if (typeof raw.complete !== 'boolean') return { error: 'ack: complete must be a boolean' };
  return { t: 'ack', model, version: vector, complete: raw.complete };
}

/** Cheap structural check; the model's `VersionVector.fromJSON` validates the numbers fully. */
function checkVersionShape(version: unknown): string | undefined {
  if (!isRecord(version)) return 'version must be an object';
  const nodes = Object.keys(version);
  if (nodes.length > MAX_VECTOR_NODES) return 'version has too many nodes';
  for (const node of nodes) if (!NODE_ID.test(node)) return 'version has a bad node id';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
