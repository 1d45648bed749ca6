import { expect } from 'chai';
import { MemoryStorageAdapter, type StorageAdapter } from '../../src/store/index.js';
import { runStorageAdapterContractTests } from './storage-adapter-contract.js';

runStorageAdapterContractTests('MemoryStorageAdapter', async () => {
  const opened: StorageAdapter[] = [];
  let first: MemoryStorageAdapter | undefined;
  return {
    open: async () => {
      const adapter = first ? first.openAnother() : (first = new MemoryStorageAdapter());
      opened.push(adapter);
      return adapter;
    },
    teardown: async () => {
      for (const adapter of opened) adapter.close();
    },
  };
});

describe('MemoryStorageAdapter', () => {
  it('keeps separately created adapters apart', async () => {
    const a = new MemoryStorageAdapter();
    const b = new MemoryStorageAdapter();
    await a.writeMetadata({ createdAt: 1 });
    expect(await b.readMetadata()).to.deep.equal({});
    expect(a.name).to.not.equal(b.name);
  });
});
