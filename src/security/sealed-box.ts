import { fromBase64Url, toBase64Url } from '../util/base64url.js';
import type { SealingKeys } from './room-keys.js';
import { decodeUtf8, encodeUtf8 } from '../util/utf8.js';

/** Format version of sealed messages. */
export const SEALED_VERSION = 1;
/** AES-GCM nonce bytes: 96 bits, fresh and random for every message. */
export const IV_BYTES = 12;
/** Default cap on the plaintext of one sealed message. */
export const DEFAULT_MAX_SEALED_BYTES = 64 * 1024 * 1024;

/** A sealed JSON value, itself JSON: what a signaling server relays. */
export interface SealedBox {
  readonly v: typeof SEALED_VERSION;
  /** `RoomKeys.keyId` of the sealing key. */
  readonly kid: string;
  /** The 96-bit nonce, base64url. */
  readonly iv: string;
  /** Ciphertext with the 128-bit tag, base64url. */
  readonly ct: string;
}

/** Sealed bytes, for channels that carry binary data (structured clone). */
export interface SealedBytes {
  readonly v: typeof SEALED_VERSION;
  readonly kid: string;
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ct: Uint8Array<ArrayBuffer>;
}

/** Why a sealed message was refused. */
export const OpenFailureKind = {
  /** Not a sealed message at all: the sender has no room key (or is not a member). */
  notSealed: 'not-sealed',
  /** Sealed with another key: the sender holds a wrong or outdated room key. */
  wrongKey: 'wrong-key',
  /** Our key id, but the tag does not verify: altered, redirected, or forged in transit. */
  tampered: 'tampered',
  /** Authentic, yet not what the format requires (only a key holder can send this). */
  malformed: 'malformed',
} as const;
export type OpenFailureKind = (typeof OpenFailureKind)[keyof typeof OpenFailureKind];

/** A refused sealed message. */
export interface OpenFailure {
  readonly error: OpenFailureKind;
  readonly reason: string;
}

/** True for a refused message. */
export const isOpenFailure = (value: object): value is OpenFailure => 'error' in value;

const MAX_KEY_ID_CHARS = 64;

/**
 * Seals bytes with AES-GCM under a fresh random IV. `aad` is authenticated but not encrypted: it
 * binds the message to its context (sender, recipient, channel), so a relay cannot move it.
 */
export async function sealBytes(keys: SealingKeys, bytes: Uint8Array, aad = ''): Promise<SealedBytes> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encodeUtf8(aad) },
    keys.sealKey,
    bytes as Uint8Array<ArrayBuffer>,
  );
  return { v: SEALED_VERSION, kid: keys.keyId, iv, ct: new Uint8Array(ct) };
}

/** Opens sealed bytes from an untrusted source. Never throws: returns the bytes or why not. */
export async function openBytes(
  keys: SealingKeys,
  sealed: unknown,
  aad = '',
  maxBytes = DEFAULT_MAX_SEALED_BYTES,
): Promise<Uint8Array<ArrayBuffer> | OpenFailure> {
  const envelope = checkEnvelope(sealed, keys);
  if (isOpenFailure(envelope)) return envelope;
  const { iv, ct } = envelope;
  // From here on the message claims our key: anything wrong with it is tampering.
  if (!(iv instanceof Uint8Array) || !(ct instanceof Uint8Array)) return failure('tampered', 'iv and ct must be bytes');
  return decrypt(keys, iv, ct, aad, maxBytes);
}

/** Seals a JSON value (see `sealBytes`). Throws a `TypeError` for a value JSON cannot carry. */
export async function seal(keys: SealingKeys, value: unknown, aad = ''): Promise<SealedBox> {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('seal: the value cannot be written as JSON');
  const sealed = await sealBytes(keys, encodeUtf8(json), aad);
  return { v: sealed.v, kid: sealed.kid, iv: toBase64Url(sealed.iv), ct: toBase64Url(sealed.ct) };
}

/** An opened `SealedBox`: wrapped, so no sealed value can pass for an `OpenFailure`. */
export interface Opened {
  readonly value: unknown;
}

/** Opens a `SealedBox` from an untrusted source. Never throws: returns the value or why not. */
export async function open(
  keys: SealingKeys,
  sealed: unknown,
  aad = '',
  maxBytes = DEFAULT_MAX_SEALED_BYTES,
): Promise<Opened | OpenFailure> {
  const envelope = checkEnvelope(sealed, keys);
  if (isOpenFailure(envelope)) return envelope;
  const { iv, ct } = envelope;
  // The message claims our key from here on: anything wrong with it is tampering. Base64 grows
  // by 4/3: oversized text is refused before it is decoded.
  if (typeof iv !== 'string' || typeof ct !== 'string' || ct.length > Math.ceil(((maxBytes + 16) * 4) / 3)) {
    return failure('tampered', 'iv and ct must be base64url text of bounded size');
  }
  const ivBytes = fromBase64Url(iv);
  const ctBytes = fromBase64Url(ct);
  if (!ivBytes || !ctBytes) return failure('tampered', 'iv or ct is not base64url');
  const plain = await decrypt(keys, ivBytes, ctBytes, aad, maxBytes);
  if (isOpenFailure(plain)) return plain;
  try {
    return { value: JSON.parse(decodeUtf8(plain)) as unknown };
  } catch {
    return failure('malformed', 'the sealed payload is not UTF-8 JSON');
  }
}

/** The `iv` and `ct` of an envelope with our version and key id, or why not. */
function checkEnvelope(sealed: unknown, keys: SealingKeys): { readonly iv: unknown; readonly ct: unknown } | OpenFailure {
  if (typeof sealed !== 'object' || sealed === null || Array.isArray(sealed)) return failure('notSealed', 'not an object');
  const box = sealed as Record<string, unknown>;
  if (box.v !== SEALED_VERSION) return failure('notSealed', `unknown sealed version ${JSON.stringify(box.v)?.slice(0, 20)}`);
  if (typeof box.kid !== 'string' || box.kid.length > MAX_KEY_ID_CHARS) return failure('notSealed', 'missing key id');
  if (box.kid !== keys.keyId) return failure('wrongKey', 'sealed with another room key');
  return { iv: box.iv, ct: box.ct };
}

async function decrypt(
  keys: SealingKeys,
  iv: Uint8Array,
  ct: Uint8Array,
  aad: string,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | OpenFailure> {
  if (iv.byteLength !== IV_BYTES) return failure('tampered', `iv of ${iv.byteLength} bytes`);
  if (ct.byteLength < 16 || ct.byteLength - 16 > maxBytes) return failure('tampered', `ciphertext of ${ct.byteLength} bytes`);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer>, additionalData: encodeUtf8(aad) },
      keys.sealKey,
      ct as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(plain);
  } catch {
    return failure('tampered', 'authentication failed');
  }
}

function failure(kind: keyof typeof OpenFailureKind, reason: string): OpenFailure {
  return { error: OpenFailureKind[kind], reason };
}
