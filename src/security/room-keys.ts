import { ROOM_PATTERN } from '../net/wire-guards.js';
import { fromBase64Url, toBase64Url } from '../util/base64url.js';
import { encodeUtf8 } from '../util/utf8.js';

/**
 * What one room's secret gives a node: where to meet, and the key that protects every message
 * relayed by something that is not a member (signaling server, BroadcastChannel).
 */
export interface RoomKeys {
  /**
   * The name the signaling server and the BroadcastChannels know the room by, derived from the
   * room id and the secret: neither sees the id, and a holder of the id alone (or of a key rotated
   * away, or a mistyped one) can neither find the room nor fill it or disturb its members.
   */
  readonly topic: string;
  /** AES-GCM-256, not extractable: seals every signaling payload and BroadcastChannel message. */
  readonly sealKey: CryptoKey;
  /** A short public fingerprint of the key, sent with sealed messages to tell "wrong key" from "tampered". */
  readonly keyId: string;
}

/** The key and fingerprint `seal` and `open` need; `RoomKeys` fits. */
export type SealingKeys = Pick<RoomKeys, 'sealKey' | 'keyId'>;

/** Bytes of a fresh room secret (256 bits). */
export const ROOM_SECRET_BYTES = 32;
/** Fewest bytes a room secret may carry (128 bits). */
export const MIN_ROOM_SECRET_BYTES = 16;
/** Most bytes a room secret may carry. */
export const MAX_ROOM_SECRET_BYTES = 64;

/** A room id, a room secret or a key derivation was refused. */
export class RoomKeyError extends Error {
  override readonly name = 'RoomKeyError';
}

const TOPIC_BYTES = 24;
const KEY_ID_BYTES = 9;

/** A fresh random room secret: 256 bits as base64url, ready for a link's fragment. */
export function generateRoomSecret(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(ROOM_SECRET_BYTES)));
}

/** True if `value` is a well-formed room secret (base64url of 16–64 bytes). */
export function isRoomSecret(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const bytes = fromBase64Url(value);
  return bytes !== undefined && bytes.length >= MIN_ROOM_SECRET_BYTES && bytes.length <= MAX_ROOM_SECRET_BYTES;
}

/**
 * Derives the room's keys from its id and secret with HKDF-SHA-256. The room id is the salt, so
 * one secret reused for two rooms still gives unrelated keys; each output has its own `info`, so
 * the public key id and topic reveal nothing about the sealing key. Throws `RoomKeyError` for a
 * malformed id or secret.
 */
export async function deriveRoomKeys(roomId: string, secret: string): Promise<RoomKeys> {
  checkRoomId(roomId);
  if (typeof secret !== 'string' || secret === '') throw new RoomKeyError('missing room key');
  const secretBytes = fromBase64Url(secret);
  if (!secretBytes) throw new RoomKeyError('the room key is not base64url text');
  if (secretBytes.length < MIN_ROOM_SECRET_BYTES || secretBytes.length > MAX_ROOM_SECRET_BYTES) {
    throw new RoomKeyError(
      `the room key has ${secretBytes.length} bytes; it needs ${MIN_ROOM_SECRET_BYTES} to ${MAX_ROOM_SECRET_BYTES}`,
    );
  }
  const material = await crypto.subtle.importKey('raw', secretBytes, 'HKDF', false, ['deriveKey', 'deriveBits']);
  const salt = encodeUtf8(`ednet-p2p/room/${roomId}`);
  const [topic, sealKey, keyId] = await Promise.all([
    hkdfBytes(material, salt, 'ednet-p2p topic v2', TOPIC_BYTES),
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: encodeUtf8('ednet-p2p seal key v1') },
      material,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    ),
    hkdfBytes(material, salt, 'ednet-p2p key id v1', KEY_ID_BYTES),
  ]);
  return { topic: toBase64Url(topic), sealKey, keyId: toBase64Url(keyId) };
}

function checkRoomId(roomId: unknown): asserts roomId is string {
  if (typeof roomId !== 'string' || !ROOM_PATTERN.test(roomId)) {
    throw new RoomKeyError(`invalid room id ${JSON.stringify(roomId)?.slice(0, 80)}: 1–128 of A–Z a–z 0–9 _ . : -`);
  }
}

async function hkdfBytes(material: CryptoKey, salt: string | Uint8Array<ArrayBuffer>, info: string, length: number) {
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: typeof salt === 'string' ? encodeUtf8(salt) : salt, info: encodeUtf8(info) },
    material,
    length * 8,
  );
  return new Uint8Array(bits);
}
