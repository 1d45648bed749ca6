import { expect } from 'chai';
import { lazyModule } from '../../src/app/lazy-module.js';

describe('lazyModule', () => {
  it('loads once and hands every call the same module', async () => {
    let loads = 0;
    const module = { answer: 42 };
    const load = lazyModule('The answer', async () => {
      loads++;
      return module;
    });
    const [a, b] = await Promise.all([load(), load()]);
    expect(await load()).to.equal(module);
    expect(a).to.equal(module);
    expect(b).to.equal(module);
    expect(loads).to.equal(1);
  });

  it('says what failed and what to do, and tries again on the next call', async () => {
    let loads = 0;
    const load = lazyModule('The room page', async () => {
      loads++;
      if (loads === 1) throw new TypeError('Failed to fetch dynamically imported module');
      return 'loaded';
    });
    let error: unknown;
    try {
      await load();
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).to.equal(
      'The room page could not be loaded (Failed to fetch dynamically imported module). Reload the page to get the current version of the app.',
    );
    expect(await load()).to.equal('loaded');
    expect(loads).to.equal(2);
  });
});
