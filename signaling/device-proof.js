// Proof that a signaling client owns the node id it joins under (docs/protocol.md, `auth`). Node
// ids are derived from the device's Ed25519 public key exactly as src/security/device-identity.ts
// derives them; the client signs the connection's random challenge with that key.
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';

/** Characters of a device id (base64url of 192 bits); a node id is one, optionally plus a per-tab suffix. */
export const DEVICE_ID_CHARS = 32;
/** Characters of the per-tab suffix. */
export const NODE_ID_SUFFIX_CHARS = 8;
/** What the client signs: this label, then the challenge's bytes. The label keeps the signature useless anywhere else. */
export const PROOF_LABEL = 'ednet-p2p/signaling-auth v1\u0000';

const NODE_ID_PREFIX = Buffer.from('ednet-p2p/node-id\u0000');
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A fresh challenge for one connection: 32 random bytes, base64url. */
export function newChallenge() {
  return randomBytes(32).toString('base64url');
}

/** The device id of a raw Ed25519 public key. @param {Buffer} publicKey */
export function deviceIdOf(publicKey) {
  return createHash('sha256').update(NODE_ID_PREFIX).update(publicKey).digest().subarray(0, (DEVICE_ID_CHARS * 3) / 4).toString('base64url');
}

/**
 * Checks an `auth` frame against the connection's challenge; never throws.
 * @param {string} challenge
 * @param {{ key: string, signature: string }} proof raw public key and signature, base64url
 * @returns {{ deviceId: string } | { error: string }}
 */
export function verifyDeviceProof(challenge, proof) {
  const key = decode(proof.key, 32);
  const signature = decode(proof.signature, 64);
  if (!key) return { error: 'key must be a raw Ed25519 public key (32 bytes, base64url)' };
  if (!signature) return { error: 'signature must be 64 bytes, base64url' };
  let ok = false;
  try {
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') }, format: 'jwk' });
    ok = verify(null, Buffer.concat([Buffer.from(PROOF_LABEL), Buffer.from(challenge, 'base64url')]), publicKey, signature);
  } catch {
    ok = false;
  }
  return ok ? { deviceId: deviceIdOf(key) } : { error: 'the signature does not verify with that key over this connection\'s challenge' };
}

/** True if `peer` is `deviceId`, alone or with a per-tab suffix. @param {string} peer @param {string} deviceId */
export function peerBelongsTo(peer, deviceId) {
  return (peer.length === DEVICE_ID_CHARS || peer.length === DEVICE_ID_CHARS + NODE_ID_SUFFIX_CHARS) && peer.startsWith(deviceId);
}

/** @param {unknown} text @param {number} bytes */
function decode(text, bytes) {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length > 2 * bytes) return undefined;
  const decoded = Buffer.from(text, 'base64url');
  return decoded.length === bytes ? decoded : undefined;
}
