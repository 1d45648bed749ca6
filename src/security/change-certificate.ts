import { type NodeId, asNodeId, isNodeId } from '../crdt/dot.js';
import { VersionVector } from '../crdt/version-vector.js';
import { ITEM_HASH_BYTES } from './change-items.js';
import { PUBLIC_KEY_BYTES } from './device-identity.js';
import { decodeAscii, decodeUtf8, encodeUtf8 } from '../util/utf8.js';

/** Items one certificate may list: large commits get several, so a relay forwarding one item never carries more than this many hashes with it. */
export const MAX_CERTIFIED_ITEMS = 256;
/** Bytes of an Ed25519 signature. */
export const CERTIFICATE_SIGNATURE_BYTES = 64;
/** Format of the encoded certificate (its first byte). */
export const CERTIFICATE_VERSION = 1;
/**
 * The same format without the hash list: sent with a delta that carries every item the
 * certificate lists, from which the receiver computes the list (it hashes each item anyway). Saves
 * 16 bytes per item, most of a bootstrap's certificate bytes.
 */
export const ELIDED_CERTIFICATE_VERSION = 2;
/**
 * The formats of certificates that also carry the author's causal context when it signed
 * (`ChangeCertificate.context`), in full and without the hash list. Certificates of items that
 * remove something (removal marks) carry it: it is the signed evidence of what the author had seen
 * when it removed, and only that evidence lets a replica drop what it holds (docs/security.md).
 */
export const CONTEXT_CERTIFICATE_VERSION = 3;
export const ELIDED_CONTEXT_CERTIFICATE_VERSION = 4;
/** Longest encoded context (canonical JSON of the version vector): about 1,500 authors. */
export const MAX_CONTEXT_BYTES = 64 * 1024;
/** Upper bound of an encoded certificate: header, worst-case seq varints, context, hashes, signature. */
export const MAX_CERTIFICATE_BYTES =
  1 + 1 + 64 + PUBLIC_KEY_BYTES + 2 + MAX_CERTIFIED_ITEMS * (8 + ITEM_HASH_BYTES) + 4 + MAX_CONTEXT_BYTES + CERTIFICATE_SIGNATURE_BYTES;

/**
 * One author's signature over a run of its operations in one model: for each listed seq, the hash
 * of the item (write, add or removal mark) that seq made. A receiver checks each item it gets
 * against the hash at its seq and needs nothing else of the commit, so relays, which forward what
 * survived rather than what was written, still prove every item's author. See docs/security.md.
 */
export interface ChangeCertificate {
  readonly node: NodeId;
  /** The author's Ed25519 public key; `node` must be derived from it. */
  readonly publicKey: Uint8Array;
  /** Ascending, distinct, 1 to `MAX_CERTIFIED_ITEMS`. */
  readonly seqs: readonly number[];
  /** `ITEM_HASH_BYTES` per seq, in the same order. */
  readonly hashes: Uint8Array;
  /** The author's causal context when it signed, if it signed one (see `CONTEXT_CERTIFICATE_VERSION`). */
  readonly context?: VersionVector;
  readonly signature: Uint8Array;
}

/** A certificate as sent without its hash list (`ELIDED_CERTIFICATE_VERSION`). */
export interface ElidedCertificate extends Omit<ChangeCertificate, 'hashes'> {
  readonly hashes: null;
}

/** Why bytes are not a certificate. */
export interface CertificateError {
  readonly error: string;
}

const SIGNED_PREFIX = encodeUtf8('ednet-p2p/certificate/v1\u0000');

/** The encoded certificate: `[version][node length][node][public key][count u16][seq deltas, LEB128][hashes][signature]`. */
export function encodeCertificate(certificate: ChangeCertificate): Uint8Array {
  return encode(certificate, false);
}

/** The encoded certificate without its hash list (`ELIDED_CERTIFICATE_VERSION`), to send with every item it lists. */
export function encodeElidedCertificate(certificate: ChangeCertificate): Uint8Array {
  return encode(certificate, true);
}

function encode(certificate: ChangeCertificate, elideHashes: boolean): Uint8Array {
  const body = encodeBody(certificate, elideHashes);
  const out = new Uint8Array(body.length + CERTIFICATE_SIGNATURE_BYTES);
  out.set(body);
  if (elideHashes) out[0] = certificate.context ? ELIDED_CONTEXT_CERTIFICATE_VERSION : ELIDED_CERTIFICATE_VERSION;
  out.set(certificate.signature, body.length);
  return out;
}

/** What the author signs: a domain label and the model id, then the certificate without its signature. */
export function certificateSignedBytes(modelId: string, certificate: Omit<ChangeCertificate, 'signature'>): Uint8Array {
  const model = encodeUtf8(modelId);
  const body = encodeBody(certificate);
  const out = new Uint8Array(SIGNED_PREFIX.length + 1 + model.length + body.length);
  out.set(SIGNED_PREFIX);
  out[SIGNED_PREFIX.length] = model.length;
  out.set(model, SIGNED_PREFIX.length + 1);
  out.set(body, SIGNED_PREFIX.length + 1 + model.length);
  return out;
}

/** Parses an untrusted certificate in its full form, checking every length and that seqs ascend. Never throws. */
export function decodeCertificate(bytes: Uint8Array): ChangeCertificate | CertificateError {
  const decoded = decodeSentCertificate(bytes);
  return !isCertificateError(decoded) && decoded.hashes === null ? { error: 'certificate: hash list missing' } : (decoded as ChangeCertificate | CertificateError);
}

/** `decodeCertificate` that also takes the elided form, as deltas carry it. Never throws. */
export function decodeSentCertificate(bytes: Uint8Array): ChangeCertificate | ElidedCertificate | CertificateError {
  const fail = (error: string) => ({ error: `certificate: ${error}` });
  if (bytes.length > MAX_CERTIFICATE_BYTES) return fail('too long');
  let at = 0;
  const version = bytes[at++];
  if (version === undefined || version < CERTIFICATE_VERSION || version > ELIDED_CONTEXT_CERTIFICATE_VERSION) return fail('unknown version');
  const elided = version === ELIDED_CERTIFICATE_VERSION || version === ELIDED_CONTEXT_CERTIFICATE_VERSION;
  const withContext = version >= CONTEXT_CERTIFICATE_VERSION;
  const nodeLength = bytes[at++] ?? 0;
  if (at + nodeLength + PUBLIC_KEY_BYTES + 2 > bytes.length) return fail('truncated');
  const node = decodeAscii(bytes.subarray(at, at + nodeLength));
  at += nodeLength;
  if (node === undefined || !isNodeId(node)) return fail('bad node id');
  const publicKey = bytes.slice(at, at + PUBLIC_KEY_BYTES);
  at += PUBLIC_KEY_BYTES;
  const count = (bytes[at]! << 8) | bytes[at + 1]!;
  at += 2;
  if (count < 1 || count > MAX_CERTIFIED_ITEMS) return fail(`must list 1 to ${MAX_CERTIFIED_ITEMS} items`);
  const seqs: number[] = [];
  let previous = 0;
  for (let i = 0; i < count; i++) {
    let delta = 0;
    let scale = 1;
    for (let shift = 0; ; shift++) {
      if (at >= bytes.length || shift > 7) return fail('bad seq');
      const byte = bytes[at++]!;
      // One encoding per number: a trailing zero group would give a signed list a second form.
      if (byte === 0 && shift > 0) return fail('bad seq');
      delta += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) break;
    }
    const seq = previous + delta;
    if (delta < 1 || !Number.isSafeInteger(seq)) return fail('seqs must ascend');
    seqs.push(seq);
    previous = seq;
  }
  let context: VersionVector | undefined;
  if (withContext) {
    if (at + 4 > bytes.length) return fail('truncated');
    const length = ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
    at += 4;
    if (length > MAX_CONTEXT_BYTES || at + length > bytes.length) return fail('bad context');
    const text = bytes.subarray(at, at + length);
    at += length;
    try {
      context = VersionVector.fromJSON(JSON.parse(decodeUtf8(text)));
    } catch {
      return fail('bad context');
    }
    // One encoding per context: the signed bytes must be the canonical ones.
    if (decodeUtf8(text) !== JSON.stringify(context.toJSON())) return fail('context not canonical');
  }
  const hashBytes = elided ? 0 : count * ITEM_HASH_BYTES;
  if (bytes.length !== at + hashBytes + CERTIFICATE_SIGNATURE_BYTES) return fail('wrong length');
  const signature = bytes.slice(at + hashBytes);
  const withOptional = context ? { context } : {};
  if (elided) return { node: asNodeId(node), publicKey, seqs, hashes: null, ...withOptional, signature };
  return { node: asNodeId(node), publicKey, seqs, hashes: bytes.slice(at, at + hashBytes), ...withOptional, signature };
}

/** True for a decode failure. */
export function isCertificateError(value: ChangeCertificate | ElidedCertificate | CertificateError): value is CertificateError {
  return 'error' in value;
}

// Version 1 or 3 (with a context), as signed; `encodeCertificate` marks the elided form.
function encodeBody(certificate: Omit<ChangeCertificate, 'signature'>, elideHashes = false): Uint8Array {
  const { node, publicKey, seqs, hashes } = certificate;
  const context = certificate.context ? encodeUtf8(JSON.stringify(certificate.context.toJSON())) : undefined;
  if (context && context.length > MAX_CONTEXT_BYTES) throw new RangeError(`a certificate's context has at most ${MAX_CONTEXT_BYTES} bytes`);
  const out = new Uint8Array(2 + node.length + PUBLIC_KEY_BYTES + 2 + seqs.length * 8 + (context ? 4 + context.length : 0) + (elideHashes ? 0 : hashes.length));
  let at = 0;
  out[at++] = context ? CONTEXT_CERTIFICATE_VERSION : CERTIFICATE_VERSION;
  out[at++] = node.length;
  for (let i = 0; i < node.length; i++) out[at++] = node.charCodeAt(i);
  out.set(publicKey, at);
  at += PUBLIC_KEY_BYTES;
  out[at++] = seqs.length >> 8;
  out[at++] = seqs.length & 0xff;
  let previous = 0;
  for (const seq of seqs) {
    let delta = seq - previous;
    previous = seq;
    while (delta >= 0x80) {
      out[at++] = (delta % 0x80) | 0x80;
      delta = Math.floor(delta / 0x80);
    }
    out[at++] = delta;
  }
  if (context) {
    out[at++] = context.length >>> 24;
    out[at++] = (context.length >>> 16) & 0xff;
    out[at++] = (context.length >>> 8) & 0xff;
    out[at++] = context.length & 0xff;
    out.set(context, at);
    at += context.length;
  }
  if (!elideHashes) {
    out.set(hashes, at);
    at += hashes.length;
  }
  return out.subarray(0, at);
}
