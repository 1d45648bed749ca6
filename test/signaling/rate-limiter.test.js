import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../signaling/rate-limiter.js';

test('a burst is allowed at once, then tokens come back at the rate', () => {
  let now = 0;
  const limiter = new RateLimiter({ perSecond: 2, burst: 3, now: () => now });
  assert.deepEqual([limiter.take(), limiter.take(), limiter.take(), limiter.take()], [true, true, true, false]);
  now += 499;
  assert.equal(limiter.take(), false, 'a token 1 ms before it is due');
  now += 1;
  assert.equal(limiter.take(), true, 'the token when it is due');
  assert.equal(limiter.take(), false, 'a second token when one is due');
});

test('tokens never accumulate past the burst', () => {
  let now = 0;
  const limiter = new RateLimiter({ perSecond: 100, burst: 2, now: () => now });
  now += 3_600_000;
  assert.deepEqual([limiter.take(), limiter.take(), limiter.take()], [true, true, false]);
});

test('a clock stepping back mints no tokens and does not freeze the bucket', () => {
  let now = 10_000;
  const limiter = new RateLimiter({ perSecond: 1, burst: 1, now: () => now });
  assert.equal(limiter.take(), true, 'the burst token');
  now = 0;
  assert.equal(limiter.take(), false, 'a token minted by the clock stepping back');
  now = 1000;
  assert.equal(limiter.take(), true, 'the token a second after the step back');
});

test('bad settings throw', () => {
  const now = () => 0;
  assert.throws(() => new RateLimiter({ perSecond: 0, burst: 1, now }), RangeError);
  assert.throws(() => new RateLimiter({ perSecond: Infinity, burst: 1, now }), RangeError);
  assert.throws(() => new RateLimiter({ perSecond: 1, burst: 0, now }), RangeError);
  assert.throws(() => new RateLimiter({ perSecond: 1, burst: 1.5, now }), RangeError);
});
