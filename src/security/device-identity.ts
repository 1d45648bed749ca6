import { type NodeId, asNodeId, isNodeId } from '../crdt/dot.js';
import { toBase64Url } from '../util/base64url.js';
import type { DeviceKeyStore, StoredDeviceKey } from './device-key-store.js';
import { encodeUtf8 } from '../util/utf8.js';

/** Characters of the device id: base64url of 192 bits of SHA-256 of the public key. */
export const DEVICE_ID_CHARS = 32;
/** Random characters `newNodeId` appends to the device id, one id per tab. */
export const NODE_ID_SUFFIX_CHARS = 8;
/** Bytes of a raw Ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * This device's long-lived Ed25519 key pair, made once with WebCrypto and kept in IndexedDB. The
 * private key is not extractable: script can sign with it but never read it, so it cannot be
 * copied off the device. Node ids are derived from the public key (`deviceId`, optionally with a
 * per-tab suffix), so a peer cannot claim another's id without its private key. Errors from
 * IndexedDB or WebCrypto (storage blocked, no Ed25519) are thrown by `load`.
 */
export class DeviceIdentity {
  private constructor(
    private readonly privateKey: CryptoKey,
    /** The raw 32-byte public key. */
    readonly publicKey: Uint8Array<ArrayBuffer>,
    /** The node id of this device: derived from `publicKey` (see `deviceIdOf`). */
    readonly deviceId: NodeId,
  ) {}

  /** Loads the device's key pair from `keys`, making and storing it on first use. */
  static async load(keys: DeviceKeyStore): Promise<DeviceIdentity> {
    const stored = await keys.getOrCreate(async (): Promise<StoredDeviceKey> => {
      const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      return { privateKey: pair.privateKey, publicKey: pair.publicKey, createdAt: Date.now() };
    });
    const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', stored.publicKey));
    return new DeviceIdentity(stored.privateKey, publicKey, await DeviceIdentity.deviceIdOf(publicKey));
  }

  /** The device id belonging to a raw Ed25519 public key. */
  static async deviceIdOf(publicKey: Uint8Array): Promise<NodeId> {
    const input = new Uint8Array([...encodeUtf8('ednet-p2p/node-id\u0000'), ...publicKey]);
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
    return asNodeId(toBase64Url(hash.subarray(0, (DEVICE_ID_CHARS * 3) / 4)));
  }

  /**
   * True if `nodeId` belongs to `publicKey`: it is the key's device id, alone or followed by a
   * per-tab suffix. Never throws.
   */
  static async nodeIdBelongsTo(nodeId: unknown, publicKey: Uint8Array): Promise<boolean> {
    if (!isNodeId(nodeId) || !(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return false;
    if (nodeId.length !== DEVICE_ID_CHARS && nodeId.length !== DEVICE_ID_CHARS + NODE_ID_SUFFIX_CHARS) return false;
    return nodeId.slice(0, DEVICE_ID_CHARS) === (await DeviceIdentity.deviceIdOf(publicKey));
  }

  /** Checks an Ed25519 signature by `publicKey` over `bytes`. Never throws: false for anything malformed. */
  static async verify(publicKey: Uint8Array, signature: Uint8Array, bytes: Uint8Array): Promise<boolean> {
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return false;
    if (!(signature instanceof Uint8Array) || signature.byteLength !== 64 || !(bytes instanceof Uint8Array)) return false;
    try {
      const key = await crypto.subtle.importKey('raw', publicKey as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
      return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature as Uint8Array<ArrayBuffer>, bytes as Uint8Array<ArrayBuffer>);
    } catch {
      return false;
    }
  }

  /**
   * A fresh node id of this device for one tab: the device id plus a random suffix. Tabs are
   * separate peers and need separate ids; every one still proves its device with `sign`.
   */
  newNodeId(): NodeId {
    const random = crypto.getRandomValues(new Uint8Array(NODE_ID_SUFFIX_CHARS));
    let suffix = '';
    for (const byte of random) suffix += SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length];
    return asNodeId(this.deviceId + suffix);
  }

  /** True if `nodeId` is this device's (see `nodeIdBelongsTo`). */
  ownsNodeId(nodeId: unknown): boolean {
    if (!isNodeId(nodeId)) return false;
    if (nodeId.length !== DEVICE_ID_CHARS && nodeId.length !== DEVICE_ID_CHARS + NODE_ID_SUFFIX_CHARS) return false;
    return nodeId.startsWith(this.deviceId);
  }

  /** Signs `bytes` with the device's private key (64-byte Ed25519 signature). */
  async sign(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, this.privateKey, bytes as Uint8Array<ArrayBuffer>));
  }

  /** The stored private key is not extractable; exposed read-only for checks. */
  get privateKeyExtractable(): boolean {
    return this.privateKey.extractable;
  }
}
