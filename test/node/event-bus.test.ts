import { expect } from 'chai';
import { EventBus } from '../../src/node/event-bus.js';

describe('EventBus', () => {
  it('says whether an event type has a listener, so senders can skip building unheard events', () => {
    const bus = new EventBus<{ ping: number; pong: string }>();
    expect(bus.has('ping')).to.equal(false);
    const heard: number[] = [];
    const off = bus.on('ping', (n) => heard.push(n));
    expect(bus.has('ping')).to.equal(true);
    expect(bus.has('pong')).to.equal(false);
    bus.emit('ping', 1);
    off();
    expect(bus.has('ping')).to.equal(false);
    bus.emit('ping', 2);
    expect(heard).to.deep.equal([1]);
  });
});
