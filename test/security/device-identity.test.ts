import { expect } from 'chai';
import { deleteDB } from 'idb';
import { isNodeId } from '../../src/crdt/dot.js';
import { DEVICE_ID_CHARS, DeviceIdentity } from '../../src/security/device-identity.js';
import { MemoryDeviceKeyStore } from '../../src/security/device-key-store.js';
import { uniqueDbName } from '../store/unique-db-name.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

describe('DeviceIdentity', () => {
  let dbName: string;

  beforeEach(() => {
    dbName = uniqueDbName();
  });

  afterEach(async () => {
    await deleteDB(dbName);
  });

  it('makes an Ed25519 key pair once and loads the same one again (a reload)', async () => {
    const first = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
    const second = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
    expect(second.deviceId).to.equal(first.deviceId);
    expect(second.publicKey).to.deep.equal(first.publicKey);
    expect(first.publicKey).to.have.length(32);
    const signature = await second.sign(new TextEncoder().encode('hello'));
    expect(await DeviceIdentity.verify(first.publicKey, signature, new TextEncoder().encode('hello')), 'verify accepts the signature').to.equal(true);
  });

  it('keeps one key when several tabs load at the same time on first use', async () => {
    const loaded = await Promise.all([1, 2, 3, 4].map(() => DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName))));
    expect(new Set(loaded.map((identity) => identity.deviceId)).size).to.equal(1);
  });

  it('gives different devices different keys and ids', async () => {
    const otherDb = uniqueDbName();
    try {
      const a = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
      const b = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(otherDb));
      expect(a.deviceId).not.to.equal(b.deviceId);
    } finally {
      await deleteDB(otherDb);
    }
  });

  it('keeps one key per memory key store (a device in tests), and another store is another device', async () => {
    const keys = new MemoryDeviceKeyStore();
    const [a, again] = await Promise.all([DeviceIdentity.load(keys), DeviceIdentity.load(keys)]);
    expect(again.deviceId).to.equal(a.deviceId);
    expect((await DeviceIdentity.load(new MemoryDeviceKeyStore())).deviceId).not.to.equal(a.deviceId);
  });

  it('keeps the private key non-extractable, also as stored', async () => {
    const identity = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
    expect(identity.privateKeyExtractable, 'privateKeyExtractable').to.equal(false);
    const { openDB } = await import('idb');
    const db = await openDB(dbName);
    const stored = (await db.get('keys', 'device')) as { privateKey: CryptoKey };
    db.close();
    expect(stored.privateKey).to.be.instanceOf(CryptoKey);
    expect(stored.privateKey.extractable, 'the stored private key is extractable').to.equal(false);
    let thrown: unknown;
    try {
      await crypto.subtle.exportKey('pkcs8', stored.privateKey);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(DOMException);
  });

  it('derives node ids from the public key that validate and belong to it only', async () => {
    const identity = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
    expect(identity.deviceId).to.have.length(DEVICE_ID_CHARS);
    expect(identity.deviceId).to.equal(await DeviceIdentity.deviceIdOf(identity.publicKey));
    const tab1 = identity.newNodeId();
    const tab2 = identity.newNodeId();
    expect(tab1).not.to.equal(tab2);
    for (const id of [identity.deviceId, tab1, tab2]) {
      expect(isNodeId(id), `${id} is a node id`).to.equal(true);
      expect(identity.ownsNodeId(id), `ownsNodeId(${id})`).to.equal(true);
      expect(await DeviceIdentity.nodeIdBelongsTo(id, identity.publicKey), `${id} belongs to its key`).to.equal(true);
    }
    const stranger = crypto.getRandomValues(new Uint8Array(32));
    expect(await DeviceIdentity.nodeIdBelongsTo(tab1, stranger), 'a node id belongs to a stranger key').to.equal(false);
    expect(await DeviceIdentity.nodeIdBelongsTo(`${identity.deviceId}x`, identity.publicKey), 'a device id with a suffix that is no tab belongs to the key').to.equal(false);
    expect(await DeviceIdentity.nodeIdBelongsTo('alice', identity.publicKey), "'alice' belongs to the key").to.equal(false);
    expect(identity.ownsNodeId('alice'), "ownsNodeId('alice')").to.equal(false);
    expect(identity.ownsNodeId(`${identity.deviceId}!`), 'ownsNodeId of the device id with a bad suffix').to.equal(false);
  });

  it('refuses tampered signatures, messages and keys without throwing', async () => {
    const identity = await DeviceIdentity.load(new IndexedDbDeviceKeyStore(dbName));
    const message = new TextEncoder().encode('ballot for Ann');
    const signature = await identity.sign(message);
    expect(signature).to.have.length(64);
    const badSignature = signature.slice();
    badSignature[0]! ^= 1;
    const badMessage = message.slice();
    badMessage[3]! ^= 1;
    const badKey = identity.publicKey.slice();
    badKey[0]! ^= 1;
    expect(await DeviceIdentity.verify(identity.publicKey, badSignature, message), 'verify accepts a changed signature').to.equal(false);
    expect(await DeviceIdentity.verify(identity.publicKey, signature, badMessage), 'verify accepts a changed message').to.equal(false);
    expect(await DeviceIdentity.verify(badKey, signature, message), 'verify accepts a changed key').to.equal(false);
    expect(await DeviceIdentity.verify(identity.publicKey.subarray(1), signature, message), 'verify accepts a short key').to.equal(false);
    expect(await DeviceIdentity.verify(identity.publicKey, signature.subarray(1), message), 'verify accepts a short signature').to.equal(false);
    expect(await DeviceIdentity.verify('key' as never, signature, message), 'verify accepts a key that is no bytes').to.equal(false);
  });
});
