// A device as a browser makes one, for Node clients of the signaling server (tests and benches).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';

const LABEL = 'ednet-p2p/signaling-auth v1\u0000';

/** A device: an Ed25519 key pair and the node ids derived from it (as src/security/device-identity.ts does). */
export function device() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(/** @type {string} */ (publicKey.export({ format: 'jwk' }).x), 'base64url');
  const id = createHash('sha256').update('ednet-p2p/node-id\u0000').update(raw).digest().subarray(0, 24).toString('base64url');
  return {
    id,
    tab: (/** @type {string} */ suffix) => `${id}${suffix}`,
    /** The `auth` frame answering `challenge`. @param {string} challenge */
    proof: (challenge) => ({
      type: 'auth',
      key: raw.toString('base64url'),
      signature: sign(null, Buffer.concat([Buffer.from(LABEL), Buffer.from(challenge, 'base64url')]), privateKey).toString('base64url'),
    }),
  };
}
