import { expect } from 'chai';
import type { DomainModel } from '../../src/domain/index.js';
import { DigestKeeper } from '../../src/sync/digest-keeper.js';
import { countingSlicer } from '../counting-slicer.js';
import { library } from '../domain/library-schema.js';

/** True when no entity of `model` waits to be rehashed (a limit of 0 rehashes none). */
const fresh = (model: DomainModel) => model.refreshDigest(0);

function authors(model: DomainModel, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) model.create('Author', { name: `Author ${i}` });
}

describe('DigestKeeper', () => {
  it('brings the digest up to date a slice per pause, including what changes between slices', async () => {
    const model = library('alice');
    let written = false;
    // Halfway through, more entities arrive: the keeper goes on until none is stale.
    const slicer = countingSlicer(100, (pauses) => {
      if (pauses === 5 && !written) {
        written = true;
        authors(model, 300, 1_000);
      }
    });
    const keeper = new DigestKeeper(model, slicer);
    authors(model, 1_000);
    expect(fresh(model)).to.equal(false);
    const first = keeper.changed();
    expect(keeper.changed()).to.equal(first); // already running: no second loop
    await first;
    expect(fresh(model)).to.equal(true);
    expect(written).to.equal(true);
    expect(slicer.pauses).to.be.at.least(13);
    const rehashed = library('bob');
    rehashed.applyChanges(model.getDelta(rehashed.version));
    expect(model.digest()).to.deep.equal(rehashed.digest());
  });

  it('stops slicing once stopped; the digest read later is still exact', async () => {
    const model = library('alice');
    let keeper: DigestKeeper | undefined;
    const slicer = countingSlicer(100, (pauses) => {
      if (pauses === 3) keeper!.stop();
    });
    keeper = new DigestKeeper(model, slicer);
    authors(model, 1_000);
    await keeper.changed();
    expect(slicer.pauses).to.equal(3);
    expect(fresh(model)).to.equal(false);
    await keeper.changed();
    expect(slicer.pauses).to.equal(3);
    const rehashed = library('bob');
    rehashed.applyChanges(model.getDelta(rehashed.version));
    expect(model.digest()).to.deep.equal(rehashed.digest());
  });
});
