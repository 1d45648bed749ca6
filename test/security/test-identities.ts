import { deleteDB } from 'idb';
import { DeviceIdentity } from '../../src/security/index.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

/**
 * One `DeviceIdentity` per name, each in a fresh database: loaded before the suite runs (the
 * returned array is filled then), the databases deleted after it. Call inside `describe`.
 */
export function testIdentities(prefix: string, names: readonly string[]): DeviceIdentity[] {
  const dbNames = names.map((name) => `${prefix}-${name}-${Math.random().toString(36).slice(2)}`);
  const identities: DeviceIdentity[] = [];
  before(async () => {
    identities.push(...(await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))))));
  });
  after(async () => {
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });
  return identities;
}
