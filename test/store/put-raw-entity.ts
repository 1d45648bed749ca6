import { openDB } from 'idb';
import { type ChunkEntry, chunkEntries, chunkIndexOf, chunkRecords } from '../../src/store/entity-chunks.js';
import { IndexedDbStorageAdapter } from '../../src/store/indexeddb-storage-adapter.js';

/**
 * Stores `value` unchecked as entity `oid` of `modelId` in a room database (current layout, which
 * must exist), as a browser bug, a full disk or an old build might leave it: as a loose entry, or
 * with `asJson` as the entity's JSON text in the chunk's data (a string that need not parse). The
 * model's change log is folded first, so the entity's whole stored state is the damaged one.
 */
export async function putRawEntity(dbName: string, modelId: string, oid: string, value: unknown, { asJson = false, commit = 1 } = {}): Promise<void> {
  const folding = new IndexedDbStorageAdapter({ roomId: 'raw', dbName });
  try {
    await folding.fold(modelId);
  } finally {
    folding.close();
  }
  const db = await openDB(dbName);
  try {
    const tx = db.transaction('chunks', 'readwrite');
    const starts = (await tx.store.getAllKeys(IDBKeyRange.bound([modelId], [modelId, []]))).map((key) => (key as [string, string])[1]);
    const index = chunkIndexOf(starts, oid);
    const start = index < 0 ? '' : starts[index]!;
    const record = index < 0 ? undefined : await tx.store.get([modelId, start]);
    const read = record ? chunkEntries(record) : undefined;
    const entries: ChunkEntry[] = read ? read.entries!.filter((entry) => entry.oid !== oid) : [];
    entries.push(asJson ? { oid, commit, json: value as string } : { oid, commit, value });
    entries.sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
    for (const chunk of chunkRecords(modelId, start, Math.max(commit, record?.commit ?? 0), entries, read?.nodes ?? [])) await tx.store.put(chunk);
    await tx.done;
  } finally {
    db.close();
  }
}
