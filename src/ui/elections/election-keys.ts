import type { ElectionKeyStore } from '../../models/electoral/index.js';
import { IndexedDbElectionKeyStore } from '../../security/indexeddb-election-key-store.js';

let store: ElectionKeyStore | undefined;

/** Where this device keeps the keys of sealed rounds it opens: IndexedDB, made on first use. */
export function electionKeyStore(): ElectionKeyStore {
  return (store ??= new IndexedDbElectionKeyStore());
}

/** Replaces the key store (tests use a `MemoryElectionKeyStore` or their own database). */
export function useElectionKeyStore(keys: ElectionKeyStore): void {
  store = keys;
}
