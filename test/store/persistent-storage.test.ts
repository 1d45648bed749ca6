import { expect } from 'chai';
import { MemoryStorageAdapter, requestPersistentStorage } from '../../src/store/index.js';

describe('requestPersistentStorage', () => {
  const manager = (persisted: boolean, grant: boolean | Error) => {
    const calls: string[] = [];
    return {
      calls,
      persisted: async () => (calls.push('persisted'), persisted),
      persist: async () => {
        calls.push('persist');
        if (grant instanceof Error) throw grant;
        return grant;
      },
    };
  };

  it('asks the browser, records the answer in the metadata and returns it', async () => {
    const storage = new MemoryStorageAdapter();
    const browser = manager(false, true);
    expect(await requestPersistentStorage(storage, browser)).to.equal(true);
    expect(browser.calls).to.deep.equal(['persisted', 'persist']);
    expect((await storage.readMetadata()).persistenceGranted).to.equal(true);
  });

  it('does not ask again when already granted', async () => {
    const browser = manager(true, false);
    expect(await requestPersistentStorage(new MemoryStorageAdapter(), browser)).to.equal(true);
    expect(browser.calls).to.deep.equal(['persisted']);
  });

  it('records a refusal, or a failing request, as false', async () => {
    const storage = new MemoryStorageAdapter();
    expect(await requestPersistentStorage(storage, manager(false, false))).to.equal(false);
    expect(await requestPersistentStorage(storage, manager(false, new Error('no')))).to.equal(false);
    expect((await storage.readMetadata()).persistenceGranted).to.equal(false);
  });

  it('records "unsupported" where the browser has no such request', async () => {
    const storage = new MemoryStorageAdapter();
    expect(await requestPersistentStorage(storage, null)).to.equal('unsupported');
    expect((await storage.readMetadata()).persistenceGranted).to.equal('unsupported');
  });

  it('uses navigator.storage by default', async () => {
    const answer = await requestPersistentStorage(new MemoryStorageAdapter());
    expect(answer).to.be.oneOf([true, false]);
  });
});
