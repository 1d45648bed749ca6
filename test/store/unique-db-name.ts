import { deleteDB } from 'idb';

let counter = 0;

/** A database name no other test uses (tests of several files run in parallel pages). */
export function uniqueDbName(): string {
  return `ednet-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${++counter}`;
}

/** Deletes a test database, waiting for every connection to close. */
export async function deleteTestDb(name: string): Promise<void> {
  await deleteDB(name);
}
