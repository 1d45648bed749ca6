import { type NodeId, asNodeId } from '../../../src/crdt/dot.js';
import { fromBase64Url } from '../../../src/util/base64url.js';
import type { ChangeSigner } from '../../../src/security/change-certification.js';
import { DEVICE_ID_CHARS, DeviceIdentity, NODE_ID_SUFFIX_CHARS } from '../../../src/security/device-identity.js';

// PKCS #8 header of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/**
 * A device key made from a given seed, so a simulated seed replays with the same node ids (ties
 * between equal timestamps break by node id). It signs and owns node ids exactly like
 * `DeviceIdentity` (device id from the public key, plus a tab suffix), which needs IndexedDB and
 * makes random keys. `signing` counts signatures under way, so the simulation can wait for them.
 */
export class SimSigner implements ChangeSigner {
  static signing = 0;

  private constructor(
    private readonly privateKey: CryptoKey,
    readonly publicKey: Uint8Array,
    readonly deviceId: NodeId,
  ) {}

  static async fromSeed(seed: Uint8Array): Promise<SimSigner> {
    const pkcs8 = new Uint8Array([...PKCS8_ED25519, ...seed]);
    const extractable = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    const jwk = await crypto.subtle.exportKey('jwk', extractable);
    const publicKey = fromBase64Url(jwk.x!)!;
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    return new SimSigner(privateKey, publicKey, await DeviceIdentity.deviceIdOf(publicKey));
  }

  /** The node id of this device's tab `suffix` (padded to the tab suffix length). */
  nodeId(suffix: string): NodeId {
    return asNodeId(this.deviceId + suffix.padEnd(NODE_ID_SUFFIX_CHARS, '_').slice(0, NODE_ID_SUFFIX_CHARS));
  }

  ownsNodeId(node: unknown): boolean {
    return typeof node === 'string' && node.length === DEVICE_ID_CHARS + NODE_ID_SUFFIX_CHARS && node.startsWith(this.deviceId);
  }

  async sign(bytes: Uint8Array): Promise<Uint8Array> {
    SimSigner.signing++;
    try {
      return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, this.privateKey, bytes as Uint8Array<ArrayBuffer>));
    } finally {
      SimSigner.signing--;
    }
  }
}
