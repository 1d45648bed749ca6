import { Hash64, VersionVector, type VersionVectorJSON } from '../crdt/index.js';
import { versionSummary } from './broadcast/version-summary.js';

/**
 * Sync protocol 5 sends the versions of deltas and acks compactly (`cv`), not as vectors with an
 * entry per node that ever wrote: in a room where every device writes, those grew every message
 * with N. Only peers that agreed on protocol 5 send or read them.
 */
export const COMPACT_VERSIONS_PROTOCOL = 5;

/** Whether an agreed protocol sends compact versions. */
export const compactsVersions = (protocol: number | null): boolean => protocol !== null && protocol >= COMPACT_VERSIONS_PROTOCOL;

/**
 * A version (and a delta's `since`) as differences. Both sides of a connection keep the same
 * base: what the sender claimed on it (its last `hello` or `version`, joined with every delta,
 * ack and announcement after it). `v` holds the entries of the version that differ from that
 * base, whole; `s` the entries where the delta's `since` differs from its version (0: no entry);
 * `h` a check of the whole version, so a receiver whose base went astray (a lost or refused
 * frame) notices and asks for a full version instead of adopting a wrong one.
 */
export interface CompactVersions {
  readonly v: VersionVectorJSON;
  readonly s?: VersionVectorJSON;
  readonly h: string;
}

// Distinguishes this check from other 64-bit hashes of the project (digests).
const CHECK_SEED = 0x5e75;

/** The check of a whole version: a 64-bit hash of its canonical JSON, 16 hex digits. */
export function versionCheck(version: VersionVector): string {
  return new Hash64().reset(CHECK_SEED).string(JSON.stringify(version.toJSON())).finish().hex();
}

/**
 * `version` (and `since`, for a delta) as differences from `told`, what this node claimed before
 * on the connection; undefined where that cannot be done (nothing told yet, or a version that
 * does not hold all of `told`: a delta capped at what is signed so far), and the full form goes.
 */
export function compactVersions(version: VersionVector, told: VersionVector | undefined, since?: VersionVector): CompactVersions | undefined {
  if (!told || !version.includes(told)) return undefined;
  const compact = { v: versionSummary(version, told), h: versionCheck(version) };
  if (!since) return compact;
  const full = version.toJSON();
  const base = since.toJSON();
  const s: VersionVectorJSON = {};
  for (const [node, entry] of Object.entries(base)) if (JSON.stringify(entry) !== JSON.stringify(full[node])) s[node] = entry;
  for (const node of Object.keys(full)) if (!Object.hasOwn(base, node)) s[node] = 0;
  return { ...compact, s };
}

/**
 * Whether the compact form is shorter on the wire than the whole versions it stands for (with
 * few authors it is not: the check alone is 16 digits). Either form may go; the receiver reads both.
 */
export function isShorter(compact: CompactVersions, version: VersionVector, since?: VersionVector): boolean {
  const whole = JSON.stringify(version.toJSON()).length + (since ? JSON.stringify(since.toJSON()).length : 0);
  return JSON.stringify(compact).length < whole;
}

/** What a compact form gives back: the versions, or `mismatch` when the base went astray. */
export type ExpandedVersions = { readonly version: VersionVector; readonly since: VersionVector | undefined } | 'mismatch' | { readonly error: string };

/**
 * Rebuilds the version (and `since`) from `heard`, what the peer claimed before on this
 * connection. `mismatch` if the check fails (not the peer's fault as such: a frame may have been
 * lost); `error` if the result breaks the version vector limits. Never throws.
 */
export function expandVersions(compact: CompactVersions, heard: VersionVector | undefined): ExpandedVersions {
  try {
    const entries = new Map(Object.entries(heard?.toJSON() ?? {}));
    for (const [node, entry] of Object.entries(compact.v)) entries.set(node, entry);
    const version = VersionVector.fromJSON(Object.fromEntries(entries));
    if (versionCheck(version) !== compact.h) return 'mismatch';
    if (!compact.s) return { version, since: undefined };
    const sinceEntries = new Map(Object.entries(version.toJSON()));
    for (const [node, entry] of Object.entries(compact.s)) {
      if (entry === 0) sinceEntries.delete(node);
      else sinceEntries.set(node, entry);
    }
    return { version, since: VersionVector.fromJSON(Object.fromEntries(sinceEntries)) };
  } catch (error) {
    return { error: `compact versions: ${(error as Error).message}` };
  }
}

/**
 * Validates a `cv` field of untrusted input (`withSince`: a delta's, which has `s`); never
 * throws. Entries are checked as version vector entries (`s` may also hold 0: no entry).
 */
export function decodeCompactVersions(raw: unknown, withSince: boolean): CompactVersions | { readonly error: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { error: 'cv must be an object' };
  const { v, s, h } = raw as Record<string, unknown>;
  if (Object.keys(raw).some((key) => key !== 'v' && key !== 's' && key !== 'h')) return { error: 'cv has unknown fields' };
  if (typeof h !== 'string' || !/^[0-9a-f]{16}$/.test(h)) return { error: 'cv: bad check' };
  let summary: VersionVectorJSON;
  try {
    summary = VersionVector.fromJSON(v).toJSON();
  } catch (error) {
    return { error: `cv: v: ${(error as Error).message}` };
  }
  if (!withSince) return s === undefined ? { v: summary, h } : { error: 'cv: s only belongs to a delta' };
  try {
    // fromJSON checks every entry (0 included); the raw entries are kept, since 0 means "none".
    VersionVector.fromJSON(s);
  } catch (error) {
    return { error: `cv: s: ${(error as Error).message}` };
  }
  return { v: summary, s: Object.fromEntries(Object.entries(s as VersionVectorJSON)), h };
}
