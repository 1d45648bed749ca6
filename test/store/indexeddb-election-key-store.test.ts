import { expect } from 'chai';
import { IndexedDbElectionKeyStore } from '../../src/store/index.js';

describe('IndexedDbElectionKeyStore', () => {
  const databases: string[] = [];
  const freshName = () => {
    const name = `ednet-test-election-keys-${Math.random().toString(36).slice(2)}`;
    databases.push(name);
    return name;
  };
  after(async () => {
    for (const name of databases) await new Promise((resolve) => Object.assign(indexedDB.deleteDatabase(name), { onsuccess: resolve, onerror: resolve, onblocked: resolve }));
  });

  it('keeps a round’s private key by its public key, also for a later instance on the same database', async () => {
    const name = freshName();
    const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    await new IndexedDbElectionKeyStore(name).put('public-1', pair.privateKey);
    const later = new IndexedDbElectionKeyStore(name);
    const kept = await later.get('public-1');
    expect(kept, 'the stored key').to.be.instanceOf(CryptoKey);
    expect(await crypto.subtle.exportKey('jwk', kept!)).to.deep.equal(await crypto.subtle.exportKey('jwk', pair.privateKey));
    expect(await later.get('public-2'), 'a key never stored').to.equal(undefined);
  });

  it('keeps the keys of one database apart from another’s', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    await new IndexedDbElectionKeyStore(freshName()).put('public-1', pair.privateKey);
    expect(await new IndexedDbElectionKeyStore(freshName()).get('public-1')).to.equal(undefined);
  });
});
