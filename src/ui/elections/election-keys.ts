import type { ElectionKeyStore } from '../../models/electoral/index.js';

let store: ElectionKeyStore | undefined;

/**
 * Where this device keeps the keys of sealed rounds it opens. The composition root sets it
 * (`openRoomSession`: IndexedDB); the views never choose storage themselves.
 */
export function electionKeyStore(): ElectionKeyStore {
  if (!store) throw new Error('No election key store: call useElectionKeyStore() when the room opens.');
  return store;
}

/** Sets the key store (the app: IndexedDB; tests: a `MemoryElectionKeyStore` or their own database). */
export function useElectionKeyStore(keys: ElectionKeyStore): void {
  store = keys;
}
