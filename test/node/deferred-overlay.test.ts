import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { DeferredOverlay } from '../../src/node/deferred-overlay.js';
import type { RoomOverlay } from '../../src/overlay/room-overlay.js';

/** Records the calls the deferred overlay passes on, in order. */
function recordingOverlay(calls: string[]): RoomOverlay {
  return {
    start: () => calls.push('start'),
    stop: () => calls.push('stop'),
    learn: (peer: string) => calls.push(`learn ${peer}`),
    stateChanged: () => calls.push('stateChanged'),
    attach: (connection: PeerConnection) => {
      calls.push(`attach ${connection.peerId}`);
      return connection;
    },
  } as unknown as RoomOverlay;
}

describe('DeferredOverlay', () => {
  it('loads on the first member learned, then starts (if started) and learns, in the order told', async () => {
    const calls: string[] = [];
    let loads = 0;
    const deferred = new DeferredOverlay(
      async () => {
        loads++;
        calls.push('built');
        return recordingOverlay(calls);
      },
      () => calls.push('loaded'),
      () => calls.push('failed'),
    );
    deferred.start();
    deferred.stateChanged();
    expect(loads, 'nothing loads while nobody is around').to.equal(0);
    deferred.learn(asNodeId('p1'));
    deferred.learn(asNodeId('p2'));
    const overlay = await deferred.load();
    expect(loads).to.equal(1);
    expect(deferred.current).to.equal(overlay);
    expect(calls).to.deep.equal(['built', 'loaded', 'start', 'learn p1', 'learn p2']);
    deferred.learn(asNodeId('p3'));
    deferred.stop();
    expect(calls.slice(5)).to.deep.equal(['learn p3', 'stop']);
  });

  it('a connection before loading waits for it; a stopped overlay is not started when it loads', async () => {
    const calls: string[] = [];
    const deferred = new DeferredOverlay(async () => recordingOverlay(calls), () => undefined, () => undefined);
    deferred.start();
    deferred.stop();
    const connection = { peerId: asNodeId('p1') } as PeerConnection;
    const attached = deferred.attach(connection);
    expect(attached).to.be.instanceOf(Promise);
    expect(await attached).to.equal(connection);
    expect(calls).to.deep.equal(['attach p1']);
    expect(deferred.attach(connection), 'once loaded, attached at once').to.equal(connection);
  });

  it('a failed load is reported and tried again with the next member, who is learned with the first', async () => {
    const calls: string[] = [];
    let fail = true;
    const deferred = new DeferredOverlay(
      async () => {
        if (fail) throw new Error('offline');
        return recordingOverlay(calls);
      },
      () => undefined,
      (error) => calls.push(`failed ${(error as Error).message}`),
    );
    deferred.learn(asNodeId('p1'));
    await deferred.load().catch(() => undefined);
    expect(calls).to.deep.equal(['failed offline']);
    fail = false;
    deferred.learn(asNodeId('p2'));
    await deferred.load();
    expect(calls.slice(1)).to.deep.equal(['learn p1', 'learn p2']);
  });
});
