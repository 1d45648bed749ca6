import type { MetadataStorage } from './storage-adapter.js';

/** The part of `StorageManager` used here; `navigator.storage` fits. */
export interface PersistentStorageManager {
  persisted(): Promise<boolean>;
  persist(): Promise<boolean>;
}

/**
 * Asks the browser to keep this site's data under storage pressure (`navigator.storage.persist()`),
 * records the answer in the room's metadata and returns it: granted, refused, or `'unsupported'`
 * where the browser offers no such request (`manager` null). Some browsers ask the user, so call
 * it after a user action (creating or joining a room) when possible. A failing request counts as
 * a refusal; only recording the answer can reject (with a `StorageError`).
 */
export async function requestPersistentStorage(
  storage: MetadataStorage,
  manager: PersistentStorageManager | null = defaultManager(),
): Promise<boolean | 'unsupported'> {
  let granted: boolean | 'unsupported';
  if (!manager || typeof manager.persist !== 'function') granted = 'unsupported';
  else {
    try {
      granted = (await manager.persisted()) || (await manager.persist());
    } catch {
      granted = false;
    }
  }
  await storage.writeMetadata({ persistenceGranted: granted });
  return granted;
}

function defaultManager(): PersistentStorageManager | null {
  return (globalThis as { navigator?: { storage?: PersistentStorageManager } }).navigator?.storage ?? null;
}
