import { certificateKey } from './certificate-key.js';
import type { CertificateRecord } from './room-database-schema.js';

/**
 * Most certificates in one bundle record: a 10,000-entity arrival brings about 250, a
 * 100,000-entity one about 2,500, and one record of those (11 MB) would be cloned in one go.
 */
const BUNDLE_MAX = 512;

/** Keys of bundles start with this; a `certificateKey` (base64url) never does. */
const BUNDLE_PREFIX = '@';

/**
 * The records that store `certificates` saved at `commit`: one alone under its content key, or
 * several in bundles (`@<commit>.<n>`). One record per certificate cost a put, its reply and its
 * key's digest apiece: about 110 ms of the page's main thread for the 254 certificates of a
 * 10,000-entity arrival (docs/benchmark-findings.md). A bundle needs no content key: the same
 * certificate stored twice (two tabs saving what they both received) is loaded twice and kept once.
 */
export function certificateRecords(modelId: string, commit: number, certificates: readonly Uint8Array[]): CertificateRecord[] {
  if (certificates.length === 1) return [{ modelId, key: certificateKey(certificates[0]!), commit, bytes: ownBuffer(certificates[0]!) }];
  const records: CertificateRecord[] = [];
  for (let at = 0; at < certificates.length; at += BUNDLE_MAX)
    records.push({ modelId, key: `${BUNDLE_PREFIX}${commit}.${at / BUNDLE_MAX}`, commit, bytes: certificates.slice(at, at + BUNDLE_MAX).map(ownBuffer) });
  return records;
}

/** The key range of a model's bundles. */
export function bundleRange(modelId: string): IDBKeyRange {
  return IDBKeyRange.bound([modelId, BUNDLE_PREFIX], [modelId, `${BUNDLE_PREFIX}\uffff`]);
}

/**
 * The key a certificate read from a record is reported and kept aside under: the record's key, or
 * for a member of a bundle, `<bundle key>#<position>`.
 */
export function memberKey(recordKey: string, position: number): string {
  return `${recordKey}#${position}`;
}

/** The bundle key and position of a member key; undefined for the key of a record of its own. */
export function parseMemberKey(key: string): { readonly record: string; readonly position: number } | undefined {
  if (!key.startsWith(BUNDLE_PREFIX)) return undefined;
  const at = key.lastIndexOf('#');
  const position = Number(key.slice(at + 1));
  return at > 0 && Number.isSafeInteger(position) && position >= 0 ? { record: key.slice(0, at), position } : undefined;
}

/**
 * Each certificate a stored record holds, by the key it is reported under: a record's own bytes,
 * or each member of a bundle (whatever they are: damaged ones are screened by the reader).
 */
export function storedCertificates(record: { readonly key: string; readonly bytes: unknown }): Array<{ readonly key: string; readonly bytes: unknown }> {
  if (!Array.isArray(record.bytes) || !record.key.startsWith(BUNDLE_PREFIX)) return [record];
  return record.bytes.map((bytes: unknown, position) => ({ key: memberKey(record.key, position), bytes }));
}

/**
 * `certificates` with each content once, in order: bundles need no content key, so a certificate
 * two tabs both saved is stored twice. Grouped by length and last bytes (the signature), compared
 * whole within a group: no digest of every certificate on the way to opening a room.
 */
export function uniqueCertificates(certificates: readonly Uint8Array[]): Uint8Array[] {
  const groups = new Map<string, Uint8Array[]>();
  const unique: Uint8Array[] = [];
  for (const bytes of certificates) {
    const tail = bytes.subarray(Math.max(0, bytes.length - 8));
    const group = `${bytes.length}:${tail.join(',')}`;
    const seen = groups.get(group);
    if (seen?.some((other) => sameContent(other, bytes))) continue;
    if (seen) seen.push(bytes);
    else groups.set(group, [bytes]);
    unique.push(bytes);
  }
  return unique;
}

function sameContent(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Structured clone stores a view's whole buffer: a certificate cut out of a larger one is copied.
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
