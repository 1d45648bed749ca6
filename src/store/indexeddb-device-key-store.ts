import { type DBSchema, openDB } from 'idb';
import type { DeviceKeyStore, StoredDeviceKey } from '../security/device-key-store.js';

/** The database holding this device's key pair (one per origin, shared by every room). */
export const DEVICE_DB_NAME = 'ednet-p2p-device';

interface DeviceDatabase extends DBSchema {
  keys: { key: string; value: StoredDeviceKey };
}

const DEVICE_KEY = 'device';

/** The device's key pair in IndexedDB, where `CryptoKey`s are kept as they are (never exported). */
export class IndexedDbDeviceKeyStore implements DeviceKeyStore {
  constructor(private readonly dbName: string = DEVICE_DB_NAME) {}

  async getOrCreate(make: () => Promise<StoredDeviceKey>): Promise<StoredDeviceKey> {
    const db = await openDB<DeviceDatabase>(this.dbName, 1, {
      upgrade(database) {
        database.createObjectStore('keys');
      },
    });
    try {
      const stored = await db.get('keys', DEVICE_KEY);
      if (stored) return stored;
      // Made outside the transaction (IndexedDB transactions end at an await on anything else);
      // if another tab stored a key meanwhile, that one wins and this one is dropped.
      const candidate = await make();
      const tx = db.transaction('keys', 'readwrite');
      const raced = await tx.store.get(DEVICE_KEY);
      if (!raced) await tx.store.add(candidate, DEVICE_KEY);
      await tx.done;
      return raced ?? candidate;
    } finally {
      db.close();
    }
  }
}
