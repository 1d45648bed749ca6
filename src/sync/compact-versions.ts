import { Hash64, VersionVector, type VersionVectorJSON } from '../crdt/index.js';
import { DECODE_LIMITS, withDecodedVersions } from '../domain/index.js';
import type { AckMessage, DeltaMessage, SyncDecodeError, SyncMessage, VersionMessage } from './sync-message.js';

/**
 * Sync protocol 5 sends the versions of deltas, acks and version reports compactly (`cv`), not as
 * vectors with an entry per node that ever wrote: in a room where every device writes, those grew
 * every message with N, so bytes per edit grew as N² (Singhal and Kshemkalyani's differential
 * vector clocks; docs/protocol.md, *Compact versions*).
 */
export const COMPACT_VERSIONS_PROTOCOL = 5;

/** Whether an agreed protocol sends compact versions. */
export const compactsVersions = (protocol: number | null): boolean => protocol !== null && protocol >= COMPACT_VERSIONS_PROTOCOL;

/**
 * A version (and a delta's `since`) as differences. `v` holds the entries of the version that
 * differ from the last version the sender sent on this connection for the same model (0: no entry
 * any more); `s` the entries where a delta's `since` differs from its version (0: no entry); `h` a
 * check of the whole version.
 */
export interface CompactVersions {
  readonly v: VersionVectorJSON;
  readonly s?: VersionVectorJSON;
  readonly h: string;
}

/** A message whose compact versions did not add up here (see `VersionCodec.incoming`). */
export interface AstrayVersions {
  readonly astray: string;
  /** Ask the peer for a whole version (the first such message since the base was right, then now and then). */
  readonly ask: boolean;
}

// Distinguishes this check from other 64-bit hashes of the project (digests).
const CHECK_SEED = 0x5e75;
const hash = new Hash64();

/** The check of a whole version: a 64-bit hash of its entries in node order, 16 hex digits. */
export function versionCheck(version: VersionVectorJSON): string {
  const entries = Object.keys(version)
    .filter((node) => version[node] !== 0)
    .sort()
    .map((node) => [node, version[node]]);
  return hash.reset(CHECK_SEED).string(JSON.stringify(entries)).finish().hex();
}

/**
 * The version vectors one side of a connection sent and heard, per model, so that each message
 * carries only what changed. This is a codec, not a protocol: the sender records every version it
 * sends (hello, delta, ack, version report) in send order, the receiver every version it reads
 * in arrival order, and the connection delivers in order and loses nothing while it is open (a
 * WebRTC data channel is reliable and ordered; a reset closes it and the next connection starts
 * with a fresh codec and a `hello` carrying whole versions). So the receiver rebuilds exactly the
 * vectors the sender had, and the engine above reads the same messages as in protocol 4. The
 * check catches a base that went astray anyway (a buggy transport, a hostile peer): see `incoming`.
 */
export class VersionCodec {
  readonly #sent = new Map<string, VersionVectorJSON>();
  readonly #heard = new Map<string, VersionVectorJSON>();
  /** Models whose base went astray here, with the compact versions dropped since: until one adds up again. */
  readonly #astray = new Map<string, number>();

  /**
   * The message as it goes on the wire: with `compact` (protocol 5 agreed), a delta's, ack's or
   * version report's vectors as differences where that is shorter. Records what it sends.
   */
  outgoing(message: SyncMessage, compact: boolean): SyncMessage {
    switch (message.t) {
      case 'hello':
        for (const [model, version] of Object.entries(message.models)) this.#sent.set(model, version);
        return message;
      case 'delta': {
        const { batch } = message;
        const base = this.#sent.get(batch.modelId);
        this.#sent.set(batch.modelId, batch.version);
        if (!compact) return message;
        const cv: CompactVersions = { v: differences(batch.version, base ?? {}), s: differences(batch.since, batch.version), h: versionCheck(batch.version) };
        if (!shorter(cv, batch.version, batch.since)) return message;
        return { ...message, batch: { ...batch, since: {}, version: {} }, cv };
      }
      case 'ack':
      case 'version': {
        const base = this.#sent.get(message.model);
        this.#sent.set(message.model, message.version);
        // A rebase request goes whole: the peer's base for our versions may be astray as well.
        if (!compact || (message.t === 'version' && message.rebase)) return message;
        const cv: CompactVersions = { v: differences(message.version, base ?? {}), h: versionCheck(message.version) };
        if (!shorter(cv, message.version)) return message;
        return { ...message, version: {}, cv };
      }
      default:
        return message;
    }
  }

  /**
   * The message as the peer sent it, its versions rebuilt where they came as differences. Call
   * for every decoded message, in order. An error (nothing recorded) if they are malformed;
   * `astray` if they do not add up to their check: the base here went astray (a frame lost or
   * refused on the way, which a reliable connection does not do, but a buggy one may), so the
   * message cannot be read and is dropped like a lost one; `ask`: ask the peer for a whole version
   * (a `version` request with `rebase`, answered whole), after which the codec reads on.
   */
  incoming(message: SyncMessage): SyncMessage | SyncDecodeError | AstrayVersions {
    switch (message.t) {
      case 'hello':
        for (const [model, version] of Object.entries(message.models)) this.#heard.set(model, version);
        return message;
      case 'delta':
        return this.#delta(message);
      case 'ack':
      case 'version':
        // Asked for a whole version: the next one sent for the model goes whole.
        if (message.t === 'version' && message.rebase) this.#sent.delete(message.model);
        return this.#versionLike(message);
      default:
        return message;
    }
  }

  #astrayAt(model: string): AstrayVersions {
    const dropped = (this.#astray.get(model) ?? 0) + 1;
    this.#astray.set(model, dropped);
    // Asked again at the 2nd, 4th, 8th… dropped message: the request or its answer may be lost too.
    return { astray: model, ask: (dropped & (dropped - 1)) === 0 };
  }

  #delta(message: DeltaMessage): DeltaMessage | SyncDecodeError | AstrayVersions {
    const { batch, cv } = message;
    const version = this.#read(batch.modelId, batch.version, cv);
    if (version === null) return message;
    if (version === 'astray') return this.#astrayAt(batch.modelId);
    if ('error' in version) return { error: `delta: ${version.error}` };
    let since: VersionVector;
    try {
      since = VersionVector.fromJSON(applyDifferences(version.toJSON(), cv!.s ?? {}), DECODE_LIMITS.version);
    } catch (error) {
      return { error: `delta: compact since: ${(error as Error).message}` };
    }
    const { cv: _, ...rest } = message;
    return { ...rest, batch: withDecodedVersions(batch, since, version) };
  }

  #versionLike(message: AckMessage | VersionMessage): AckMessage | VersionMessage | SyncDecodeError | AstrayVersions {
    const version = this.#read(message.model, message.version, message.cv);
    if (version === null) return message;
    if (version === 'astray') return this.#astrayAt(message.model);
    if ('error' in version) return { error: `${message.t}: ${version.error}` };
    const { cv: _, ...rest } = message;
    return { ...rest, version: version.toJSON() };
  }

  /**
   * Records the version a message carries as heard: `whole` (null returned: nothing to rebuild), or
   * rebuilt from `cv`. A rebuilt version that matches its check proves the base right again.
   */
  #read(model: string, whole: VersionVectorJSON, cv: CompactVersions | undefined): VersionVector | null | SyncDecodeError | 'astray' {
    if (!cv) {
      this.#heard.set(model, whole);
      this.#astray.delete(model);
      return null;
    }
    try {
      const version = VersionVector.fromJSON(applyDifferences(this.#heard.get(model) ?? {}, cv.v), DECODE_LIMITS.version);
      const json = version.toJSON();
      if (versionCheck(json) !== cv.h) return 'astray';
      this.#heard.set(model, json);
      this.#astray.delete(model);
      return version;
    } catch (error) {
      return { error: `compact version: ${(error as Error).message}` };
    }
  }
}

/**
 * Validates a `cv` field of untrusted input (`withSince`: a delta's, which has `s`); never throws.
 * Entries are checked as version vector entries; 0 means "no entry".
 */
export function decodeCompactVersions(raw: unknown, withSince: boolean): CompactVersions | SyncDecodeError {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { error: 'cv must be an object' };
  const { v, s, h } = raw as Record<string, unknown>;
  if (Object.keys(raw).some((key) => key !== 'v' && key !== 's' && key !== 'h')) return { error: 'cv has unknown fields' };
  if (typeof h !== 'string' || !/^[0-9a-f]{16}$/.test(h)) return { error: 'cv: bad check' };
  const entries = differencesOf(v, 'v');
  if (typeof entries === 'string') return { error: entries };
  if (!withSince) return s === undefined ? { v: entries, h } : { error: 'cv: s only belongs to a delta' };
  const sinceEntries = differencesOf(s ?? {}, 's');
  if (typeof sinceEntries === 'string') return { error: sinceEntries };
  return { v: entries, s: sinceEntries, h };
}

// Checks differences as version vector entries (fromJSON takes 0 as "none") and keeps them raw,
// zeros included, as own properties only; or says why not.
function differencesOf(raw: unknown, name: string): VersionVectorJSON | string {
  try {
    VersionVector.fromJSON(raw, DECODE_LIMITS.version);
  } catch (error) {
    return `cv: ${name}: ${(error as Error).message}`;
  }
  return Object.fromEntries(Object.entries(raw as VersionVectorJSON));
}

/** The entries of `version` that differ from `base`, and 0 for the entries `base` has and it has not. */
function differences(version: VersionVectorJSON, base: VersionVectorJSON): VersionVectorJSON {
  const out: VersionVectorJSON = {};
  for (const [node, entry] of Object.entries(version)) if (!sameEntry(entry, base[node])) out[node] = entry;
  for (const node of Object.keys(base)) if (!Object.hasOwn(version, node)) out[node] = 0;
  return out;
}

/** `base` with `changes` applied (0: the entry goes). */
function applyDifferences(base: VersionVectorJSON, changes: VersionVectorJSON): VersionVectorJSON {
  const out = new Map(Object.entries(base));
  for (const [node, entry] of Object.entries(changes)) {
    if (entry === 0) out.delete(node);
    else out.set(node, entry);
  }
  return Object.fromEntries(out);
}

function sameEntry(a: number | number[] | undefined, b: number | number[] | undefined): boolean {
  if (typeof a === 'number' || typeof b === 'number' || a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((seq, i) => seq === b[i]);
}

/** Whether the compact form names fewer entries than the whole vectors (the check counts as one). */
function shorter(cv: CompactVersions, ...whole: VersionVectorJSON[]): boolean {
  const count = (json: VersionVectorJSON | undefined) => (json ? Object.keys(json).length : 0);
  return count(cv.v) + count(cv.s) + 1 < whole.reduce((sum, json) => sum + count(json), 0);
}
