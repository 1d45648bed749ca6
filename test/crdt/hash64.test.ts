import { expect } from 'chai';
import { BucketDigest, DIGEST_BUCKETS, EMPTY_BUCKET, Hash64, bucketListProblem, bucketOf, differingBuckets } from '../../src/crdt/index.js';

const hashOf = (feed: (h: Hash64) => void) => {
  const h = new Hash64().reset();
  feed(h);
  return h.finish().hex();
};

describe('Hash64', () => {
  it('gives fixed results, so replicas running different builds agree', () => {
    expect(hashOf((h) => h.string(''))).to.equal(hashOf((h) => h.string('')));
    expect(hashOf((h) => h.string('abc'))).to.equal('da51e2fb932ccb7c');
    expect(hashOf((h) => h.value(1.5).value(null).value(true).number(2 ** 40))).to.equal('ed1175ced52ca5f7');
  });

  it('tells apart what digests must tell apart', () => {
    const seen = new Set<string>();
    const add = (hash: string) => {
      expect(seen, 'a digest seen before').to.not.include(hash);
      seen.add(hash);
    };
    for (const v of ['1', 1, true, false, null, '', 'true', 0.5, '0.5', -1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1]) add(hashOf((h) => h.value(v)));
    add(hashOf((h) => h.string('ab').string('c')));
    add(hashOf((h) => h.string('a').string('bc')));
    add(hashOf((h) => h.string('abc')));
    add(hashOf((h) => h.string('\u0000')));
    for (let i = 0; i < 50_000; i++) add(hashOf((h) => h.string(`oid-${i}`)));
  });

  it('reads equal numbers as equal: -0 as 0, and any double by its JSON text', () => {
    expect(hashOf((h) => h.number(-0))).to.equal(hashOf((h) => h.number(0)));
    expect(hashOf((h) => h.number(0.1 + 0.2))).to.equal(hashOf((h) => h.number(JSON.parse(JSON.stringify(0.1 + 0.2)))));
    expect(hashOf((h) => h.number(-5))).not.to.equal(hashOf((h) => h.number(5)));
  });

  it('mixes every input bit into about half the output bits', () => {
    let flipped = 0;
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const a = new Hash64().reset().word(i).finish();
      for (let bit = 0; bit < 32; bit++) {
        const b = new Hash64().reset().word(i ^ (1 << bit)).finish();
        flipped += popcount(a.hi ^ b.hi) + popcount(a.lo ^ b.lo);
        total += 64;
      }
    }
    expect(flipped / total).to.be.within(0.47, 0.53);
  });
});

describe('BucketDigest', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, hi: (i * 2654435761) >>> 0, lo: (i * 40503 + 7) >>> 0 }));

  it('has the same root and buckets whatever order items come and go in', () => {
    const a = new BucketDigest();
    const b = new BucketDigest();
    const empty = new BucketDigest().root;
    for (const item of items) a.replace(bucketOf(item.key), 0, 0, item.hi, item.lo);
    for (const item of [...items].reverse()) b.replace(bucketOf(item.key), 0, 0, item.hi, item.lo);
    expect(a.root).to.equal(b.root).and.not.equal(empty);
    expect(a.buckets()).to.deep.equal(b.buckets());
    for (const item of items) a.replace(bucketOf(item.key), item.hi, item.lo, 0, 0);
    expect(a.root).to.equal(empty);
    expect(a.buckets()).to.deep.equal(Array(DIGEST_BUCKETS).fill(EMPTY_BUCKET));
  });

  it('names exactly the buckets of the items that differ', () => {
    const a = new BucketDigest();
    const b = new BucketDigest();
    for (const item of items) {
      a.replace(bucketOf(item.key), 0, 0, item.hi, item.lo);
      b.replace(bucketOf(item.key), 0, 0, item.hi, item.lo);
    }
    const changed = [items[3]!, items[250]!];
    for (const item of changed) b.replace(bucketOf(item.key), item.hi, item.lo, item.hi, item.lo ^ 1);
    expect(a.root).not.to.equal(b.root);
    expect(differingBuckets(a.buckets(), b.buckets())).to.deep.equal([...new Set(changed.map((item) => bucketOf(item.key)))].sort((x, y) => x - y));
  });

  it('spreads keys over all buckets', () => {
    const counts = new Array<number>(DIGEST_BUCKETS).fill(0);
    for (let i = 0; i < 25_600; i++) counts[bucketOf(`entity-${i}`)]!++;
    expect(Math.min(...counts)).to.be.above(50);
    expect(Math.max(...counts)).to.be.below(160);
  });

  it('checks bucket lists from elsewhere', () => {
    const good = new BucketDigest().buckets();
    expect(bucketListProblem(good)).to.equal(undefined);
    expect(bucketListProblem('x')).to.match(/array/);
    expect(bucketListProblem(good.slice(1))).to.match(/number 256/);
    expect(bucketListProblem([...good.slice(1), 'XYZ'])).to.match(/bucket 255/);
    expect(bucketListProblem([...good.slice(1), 5])).to.match(/bucket 255/);
  });
});

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}
