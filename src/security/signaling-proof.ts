import type { DeviceProof } from '../net/server-based-discovery.js';
import { fromBase64Url, toBase64Url } from '../util/base64url.js';
import type { DeviceIdentity } from './device-identity.js';
import { encodeUtf8 } from '../util/utf8.js';

/** What a device signs to prove its node ids to the signaling server (signaling/device-proof.js checks it). */
export const SIGNALING_PROOF_LABEL = 'ednet-p2p/signaling-auth v1\u0000';

/**
 * The `proveDevice` of `ServerBasedDiscovery` for `device`: signs the label and the server's
 * challenge, so the server can check that node ids derived from this key are this device's. The
 * label keeps the signature useless anywhere else (peer authentication signs other bytes).
 */
export function signalingProof(device: Pick<DeviceIdentity, 'publicKey' | 'sign'>): (challenge: string) => Promise<DeviceProof> {
  const label = encodeUtf8(SIGNALING_PROOF_LABEL);
  return async (challenge) => {
    const bytes = fromBase64Url(challenge);
    if (!bytes) throw new Error('the signaling challenge is not base64url');
    const signature = await device.sign(new Uint8Array([...label, ...bytes]));
    return { key: toBase64Url(device.publicKey), signature: toBase64Url(signature) };
  };
}
