import { type DBSchema, openDB } from 'idb';
import type { ElectionKeyStore } from '../models/electoral/index.js';

/** The database holding the private keys of sealed voting rounds this device opened (one per origin). */
export const ELECTION_KEYS_DB_NAME = 'ednet-p2p-election-keys';

interface ElectionKeysDatabase extends DBSchema {
  keys: { key: string; value: { readonly privateKey: CryptoKey; readonly createdAt: number } };
}

/**
 * Private keys of sealed voting rounds, by public key, in this device's IndexedDB: outside every
 * room's database, so they are never synced, stored with the room or put in a room file. They are
 * extractable `CryptoKey`s, because they must be published at the close: page script on this
 * device can read them, which is why the organiser's device is trusted with the secrecy of the
 * ballots until then (docs/security.md). Errors from IndexedDB are thrown.
 */
export class IndexedDbElectionKeyStore implements ElectionKeyStore {
  constructor(private readonly dbName: string = ELECTION_KEYS_DB_NAME) {}

  async put(publicKey: string, privateKey: CryptoKey): Promise<void> {
    const db = await this.#open();
    try {
      await db.put('keys', { privateKey, createdAt: Date.now() }, publicKey);
    } finally {
      db.close();
    }
  }

  async get(publicKey: string): Promise<CryptoKey | undefined> {
    const db = await this.#open();
    try {
      return (await db.get('keys', publicKey))?.privateKey;
    } finally {
      db.close();
    }
  }

  #open() {
    return openDB<ElectionKeysDatabase>(this.dbName, 1, {
      upgrade(database) {
        database.createObjectStore('keys');
      },
    });
  }
}
