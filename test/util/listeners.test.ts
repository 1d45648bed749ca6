import { expect } from 'chai';
import { Listeners } from '../../src/util/listeners.js';

describe('Listeners (the one emitter)', () => {
  const recording = () => {
    const warnings: Array<[string, unknown]> = [];
    return { warnings, logger: { warn: (message: string, details?: unknown) => warnings.push([message, details]) } };
  };

  it('calls every listener in subscription order, also one added twice, and none after unsubscribing', () => {
    const { logger } = recording();
    const listeners = new Listeners<[number]>(logger, 'test');
    const heard: string[] = [];
    const first = (value: number) => heard.push(`first ${value}`);
    const offFirst = listeners.add(first);
    listeners.add((value) => heard.push(`second ${value}`));
    const offAgain = listeners.add(first);
    listeners.emit(1);
    expect(heard).to.deep.equal(['first 1', 'second 1', 'first 1']);
    offFirst();
    offAgain();
    listeners.emit(2);
    expect(heard.slice(3)).to.deep.equal(['second 2']);
    expect(listeners.size).to.equal(1);
  });

  it('reports a throwing listener to the logger and still calls the others; emit never throws', () => {
    const { logger, warnings } = recording();
    const listeners = new Listeners<[string]>(logger, 'test');
    const failure = new Error('a broken view');
    listeners.add(() => {
      throw failure;
    });
    const heard: string[] = [];
    listeners.add((value) => heard.push(value));
    expect(() => listeners.emit('x')).to.not.throw();
    expect(heard).to.deep.equal(['x']);
    expect(warnings).to.deep.equal([['a test listener threw', failure]]);
  });

  it('a listener added or removed during emit takes effect from the next emit', () => {
    const { logger } = recording();
    const listeners = new Listeners<[]>(logger, 'test');
    const heard: string[] = [];
    let offSecond = (): void => undefined;
    listeners.add(() => {
      heard.push('first');
      offSecond();
      listeners.add(() => heard.push('late'));
    });
    offSecond = listeners.add(() => heard.push('second'));
    listeners.emit();
    expect(heard).to.deep.equal(['first', 'second']);
  });
});
