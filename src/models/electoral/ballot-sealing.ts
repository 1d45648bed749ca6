/*
 * Sealed ballots: a ballot's choice is encrypted to the public key of the round it is cast in, and
 * stays unreadable until the device that opened the round publishes the private key after the
 * close. ECIES with WebCrypto only: an ephemeral ECDH P-256 key per ballot, HKDF-SHA-256 of the
 * shared secret, AES-256-GCM with the ballot's identity as additional data, so a sealed choice
 * copied into another ballot (another voter, election or round) does not open.
 */

import { fromBase64Url, toBase64Url } from '../../util/base64url.js';
import { decodeUtf8, encodeUtf8 } from '../../util/utf8.js';

/** A round's key pair. The private key is extractable because it must be published at the close. */
export interface ElectionKeyPair {
  /** base64url of the raw (uncompressed, 65-byte) public key: what the opening carries. */
  readonly publicKey: string;
  readonly privateKey: CryptoKey;
}

/** What a sealed choice is bound to: open it under another binding and it fails. */
export interface SealBinding {
  readonly election: string;
  readonly opening: string;
  readonly voter: string;
  readonly ballot: string;
}

/** An opened sealed choice, or why it did not open. */
export type OpenedChoice = { readonly candidate: string } | { readonly error: string };

const CURVE = { name: 'ECDH', namedCurve: 'P-256' } as const;
const VERSION = 'v1';
const INFO = encodeUtf8('ednet-p2p/ballot/v1');
// Every candidate oid is padded to this length, so a sealed choice's size says nothing of it.
const PADDED_CHARS = 64;

/** A new key pair for one round of sealed voting. */
export async function generateElectionKeyPair(): Promise<ElectionKeyPair> {
  const pair = (await crypto.subtle.generateKey(CURVE, true, ['deriveBits'])) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { publicKey: toBase64Url(raw), privateKey: pair.privateKey };
}

/** The private key as published at the close: base64url PKCS #8. */
export async function exportPrivateKey(privateKey: CryptoKey): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey)));
}

/** Encrypts `candidate` to the round's public key, bound to `binding`: `v1.<ephemeral key>.<iv>.<ciphertext>`. */
export async function sealChoice(publicKey: string, candidate: string, binding: SealBinding): Promise<string> {
  if (candidate.length > PADDED_CHARS) throw new RangeError(`a candidate id has at most ${PADDED_CHARS} characters`);
  const recipient = await crypto.subtle.importKey('raw', bytesOf(publicKey), CURVE, false, []);
  const ephemeral = (await crypto.subtle.generateKey(CURVE, true, ['deriveBits'])) as CryptoKeyPair;
  const epk = new Uint8Array(await crypto.subtle.exportKey('raw', ephemeral.publicKey));
  const key = await choiceKey(ephemeral.privateKey, recipient, epk, ['encrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = encodeUtf8(candidate.padEnd(PADDED_CHARS, ' '));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(binding) }, key, plain));
  return [VERSION, toBase64Url(epk), toBase64Url(iv), toBase64Url(ct)].join('.');
}

/** Opens a sealed choice with the published private key; never throws. */
export async function openChoice(privateKey: string, sealed: string, binding: SealBinding): Promise<OpenedChoice> {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return { error: 'the sealed choice is malformed' };
  let recipient: CryptoKey;
  try {
    recipient = await crypto.subtle.importKey('pkcs8', bytesOf(privateKey), CURVE, false, ['deriveBits']);
  } catch {
    return { error: 'the published key is not a P-256 private key' };
  }
  try {
    const epk = bytesOf(parts[1]!);
    const sender = await crypto.subtle.importKey('raw', epk, CURVE, false, []);
    const key = await choiceKey(recipient, sender, epk, ['decrypt']);
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytesOf(parts[2]!), additionalData: aad(binding) },
      key,
      bytesOf(parts[3]!),
    );
    return { candidate: decodeUtf8(new Uint8Array(plain)).trimEnd() };
  } catch {
    return { error: 'the published key does not open this ballot (wrong key, or the ballot was altered or copied)' };
  }
}

/** True if `privateKey` (published, base64url PKCS #8) is the private half of `publicKey` (base64url raw). */
export async function keyMatches(privateKey: string, publicKey: string): Promise<boolean> {
  try {
    const imported = await crypto.subtle.importKey('pkcs8', bytesOf(privateKey), CURVE, true, ['deriveBits']);
    const jwk = await crypto.subtle.exportKey('jwk', imported);
    const raw = bytesOf(publicKey);
    return raw.length === 65 && raw[0] === 4 && toBase64Url(raw.subarray(1, 33)) === jwk.x && toBase64Url(raw.subarray(33)) === jwk.y;
  } catch {
    return false;
  }
}

async function choiceKey(privateKey: CryptoKey, publicKey: CryptoKey, epk: Uint8Array<ArrayBuffer>, usages: KeyUsage[]): Promise<CryptoKey> {
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const material = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: epk, info: INFO }, material, { name: 'AES-GCM', length: 256 }, false, usages);
}

function aad(binding: SealBinding): Uint8Array<ArrayBuffer> {
  return encodeUtf8(['ednet-p2p/ballot', binding.election, binding.opening, binding.voter, binding.ballot].join('\u0000'));
}

/** base64url a sealed choice or key carries; throws on anything else (the callers turn it into their answer). */
function bytesOf(text: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64Url(text);
  if (!bytes) throw new TypeError('not base64url');
  return bytes;
}
