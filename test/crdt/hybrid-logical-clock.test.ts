import { expect } from 'chai';
import { ClockDriftError, HybridLogicalClock, asNodeId, compareTimestamps } from '../../src/crdt/index.js';
import { fakeClock } from './fake-clock.js';

describe('HybridLogicalClock', () => {
  it('follows the wall clock when it moves forward', () => {
    const wall = fakeClock(1000);
    const clock = new HybridLogicalClock({ getNow: wall.now });
    expect(clock.now()).to.deep.equal({ ms: 1000, c: 0 });
    wall.advance(5);
    expect(clock.now()).to.deep.equal({ ms: 1005, c: 0 });
  });

  it('never goes backwards when the wall clock stalls or jumps back', () => {
    const wall = fakeClock(1000);
    const clock = new HybridLogicalClock({ getNow: wall.now });
    clock.now();
    expect(clock.now()).to.deep.equal({ ms: 1000, c: 1 });
    wall.set(500);
    expect(clock.now()).to.deep.equal({ ms: 1000, c: 2 });
  });

  it('moves past a remote timestamp ahead of the local clock', () => {
    const wall = fakeClock(1000);
    const clock = new HybridLogicalClock({ getNow: wall.now });
    expect(clock.receive({ ms: 2000, c: 7 })).to.deep.equal({ ms: 2000, c: 8 });
    expect(clock.now()).to.deep.equal({ ms: 2000, c: 9 });
  });

  it('refuses a remote timestamp more than maxDriftMs ahead, and keeps its reading', () => {
    const wall = fakeClock(1000);
    const clock = new HybridLogicalClock({ getNow: wall.now, maxDriftMs: 100 });
    clock.now();
    expect(clock.accepts({ ms: 1100, c: 0 }), 'accepts a timestamp exactly maxDriftMs ahead').to.equal(true);
    expect(clock.accepts({ ms: 1101, c: 0 }), 'accepts a timestamp past maxDriftMs ahead').to.equal(false);
    expect(() => clock.receive({ ms: 1101, c: 0 })).to.throw(ClockDriftError, /ahead/);
    expect(clock.last).to.deep.equal({ ms: 1000, c: 0 });
  });

  it('defaults to a five-minute drift limit', () => {
    const wall = fakeClock(0);
    const clock = new HybridLogicalClock({ getNow: wall.now });
    expect(clock.accepts({ ms: 5 * 60 * 1000, c: 0 }), 'accepts a timestamp five minutes ahead').to.equal(true);
    expect(clock.accepts({ ms: 5 * 60 * 1000 + 1, c: 0 }), 'accepts a timestamp past five minutes ahead').to.equal(false);
  });

  it('witnesses trusted timestamps without a drift check', () => {
    const clock = new HybridLogicalClock({ getNow: () => 0, maxDriftMs: 10 });
    clock.witness({ ms: 1_000_000, c: 3 });
    expect(clock.now()).to.deep.equal({ ms: 1_000_000, c: 4 });
  });

  it('orders by ms, then counter, then node id', () => {
    const a = asNodeId('alice');
    const b = asNodeId('bob');
    expect(compareTimestamps({ ms: 1, c: 9 }, b, { ms: 2, c: 0 }, a)).to.be.below(0);
    expect(compareTimestamps({ ms: 2, c: 1 }, a, { ms: 2, c: 0 }, b)).to.be.above(0);
    expect(compareTimestamps({ ms: 2, c: 1 }, a, { ms: 2, c: 1 }, b)).to.be.below(0);
    expect(compareTimestamps({ ms: 2, c: 1 }, a, { ms: 2, c: 1 }, a)).to.equal(0);
  });
});
