/** A device's key pair as kept: `CryptoKey`s (storage keeps them; the private one stays opaque). */
export interface StoredDeviceKey {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly createdAt: number;
}

/**
 * Where a device keeps its key pair (the storage port of `DeviceIdentity`): IndexedDB in the app
 * (`IndexedDbDeviceKeyStore` in store/), memory in tests.
 */
export interface DeviceKeyStore {
  /**
   * The stored key pair; when there is none, `make()`'s, stored. If another tab stored one
   * meanwhile, that one wins and is returned.
   */
  getOrCreate(make: () => Promise<StoredDeviceKey>): Promise<StoredDeviceKey>;
}

/** A key store in memory: one device for as long as the object lives. */
export class MemoryDeviceKeyStore implements DeviceKeyStore {
  #stored: Promise<StoredDeviceKey> | undefined;

  getOrCreate(make: () => Promise<StoredDeviceKey>): Promise<StoredDeviceKey> {
    this.#stored ??= make();
    return this.#stored;
  }
}
