import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { backoffDelay, checkBackoff } from '../../src/net/backoff.js';
import { BackpressuredSender, type DataChannelLike } from '../../src/net/backpressured-sender.js';
import { PeerLiveness } from '../../src/net/peer-liveness.js';
import { rejection } from './net-test-helpers.js';

/** A data channel whose buffer drains only when the test says so. */
class FakeChannel implements DataChannelLike {
  readyState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  readonly sent: Uint8Array[] = [];
  private readonly lowListeners = new Set<() => void>();
  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.readyState !== 'open') throw new Error('channel closed');
    this.sent.push(data);
    this.bufferedAmount += data.byteLength;
  }
  close(): void {
    this.readyState = 'closed';
  }
  addEventListener(_type: 'bufferedamountlow', listener: () => void): void {
    this.lowListeners.add(listener);
  }
  removeEventListener(_type: 'bufferedamountlow', listener: () => void): void {
    this.lowListeners.delete(listener);
  }
  /** The network took everything. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const listener of [...this.lowListeners]) listener();
  }
}

const frames = (count: number, size: number) => Array.from({ length: count }, (_, i) => new Uint8Array(size).fill(i));
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('BackpressuredSender', () => {
  it('pauses above the high-water mark and resumes when the channel drains, in order', async () => {
    const channel = new FakeChannel();
    const sender = new BackpressuredSender(channel, { highWaterMark: 100, lowWaterMark: 10 });
    expect(channel.bufferedAmountLowThreshold).to.equal(10);
    let firstDone = false;
    const first = sender.write(frames(5, 60)).then(() => (firstDone = true));
    const second = sender.write(frames(2, 60).map((frame) => frame.fill(200)));
    await turn();
    // 60 fits, 120 > 100: the third frame waits.
    expect(channel.sent).to.have.length(2);
    channel.drain();
    await turn();
    expect(channel.sent).to.have.length(4);
    expect(firstDone, 'the first write resolved while three of its frames wait').to.equal(false);
    channel.drain();
    await turn();
    channel.drain();
    await first;
    await turn();
    channel.drain();
    await second;
    expect(channel.sent.map((frame) => frame[0])).to.deep.equal([0, 1, 2, 3, 4, 200, 200]);
  });

  it('an idle sender hands a message to the channel at once, a busy one after the earlier writes', async () => {
    const channel = new FakeChannel();
    const sender = new BackpressuredSender(channel, { highWaterMark: 100, lowWaterMark: 10 });
    const first = sender.write(frames(1, 10));
    expect(channel.sent).to.have.length(1);
    const second = sender.write(frames(1, 10));
    expect(channel.sent).to.have.length(1);
    await Promise.all([first, second]);
    expect(channel.sent).to.have.length(2);
    await turn();
    void sender.write(frames(1, 10));
    expect(channel.sent).to.have.length(3);
  });

  it('fails every pending and later write once failed', async () => {
    const channel = new FakeChannel();
    const sender = new BackpressuredSender(channel, { highWaterMark: 10, lowWaterMark: 0 });
    const pending = sender.write(frames(3, 20));
    await turn();
    sender.fail(new Error('closed'));
    expect((await rejection(pending)).message).to.equal('closed');
    expect((await rejection(sender.write(frames(1, 1)))).message).to.equal('closed');
    expect(channel.sent).to.have.length(1);
  });

  it('fails when the channel refuses a frame', async () => {
    const channel = new FakeChannel();
    channel.close();
    const sender = new BackpressuredSender(channel);
    expect((await rejection(sender.write(frames(1, 1)))).message).to.contain('refused a frame');
  });

  it('refuses a low-water mark that is not below the high-water mark', () => {
    expect(() => new BackpressuredSender(new FakeChannel(), { highWaterMark: 10, lowWaterMark: 10 })).to.throw(RangeError);
  });
});

describe('backoff', () => {
  const options = { initialMs: 100, maxMs: 1000 };
  it('doubles from the initial delay up to the cap, jittered down to half', () => {
    expect([0, 1, 2, 3, 4, 10, 1000].map((attempt) => backoffDelay(attempt, options, () => 1))).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelay(0, options, () => 0)).to.equal(50);
    expect(backoffDelay(3, options, () => 0)).to.equal(400);
  });
  it('refuses nonsense', () => {
    expect(() => checkBackoff({ initialMs: 0, maxMs: 10 }, 'x')).to.throw(RangeError);
    expect(() => checkBackoff({ initialMs: 10, maxMs: 5 }, 'x')).to.throw(RangeError);
    expect(() => checkBackoff({ initialMs: 10, maxMs: Infinity }, 'x')).to.throw(RangeError);
  });
});

describe('PeerLiveness', () => {
  const peer = asNodeId('bob');
  it('probes a silent peer and declares it gone only if the probe is ignored until a later tick', () => {
    let now = 0;
    const liveness = new PeerLiveness(100, 50, () => now);
    liveness.heard(peer);
    now = 99;
    expect(liveness.tick()).to.deep.equal({ probe: [], vanished: [] });
    now = 100;
    expect(liveness.tick()).to.deep.equal({ probe: [peer], vanished: [] });
    now = 120; // a tick soon after (a throttled timer catching up) does not judge yet
    expect(liveness.tick()).to.deep.equal({ probe: [], vanished: [] });
    now = 150;
    expect(liveness.tick()).to.deep.equal({ probe: [], vanished: [peer] });
    now = 1000;
    expect(liveness.tick()).to.deep.equal({ probe: [], vanished: [] });
  });
  it('an answer to the probe keeps the peer', () => {
    let now = 0;
    const liveness = new PeerLiveness(100, 50, () => now);
    liveness.heard(peer);
    now = 100;
    liveness.tick();
    now = 110;
    liveness.heard(peer);
    now = 160;
    expect(liveness.tick()).to.deep.equal({ probe: [], vanished: [] });
  });
});
