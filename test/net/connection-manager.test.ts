import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { ConnectionManager, type ConnectionStateEvent } from '../../src/net/connection-manager.js';
import type { Timers } from '../../src/util/index.js';
import { ManualTimers } from '../manual-timers.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { alice, bob, carol, closed, eventually, inbox, patterned, recordingLogger } from './net-test-helpers.js';

/** One node: its manager over two in-memory networks (a preferred and a fallback transport). */
interface Peer {
  readonly manager: ConnectionManager;
  readonly events: ConnectionStateEvent[];
  readonly opened: PeerConnection[];
}

const fastBackoff = { initialMs: 5, maxMs: 20 };

describe('ConnectionManager', () => {
  let preferred: MemoryNetwork;
  let fallback: MemoryNetwork;
  const managers: ConnectionManager[] = [];
  beforeEach(() => {
    preferred = new MemoryNetwork({ kind: 'webrtc' });
    fallback = new MemoryNetwork({ kind: 'broadcast' });
  });
  afterEach(() => {
    for (const manager of managers.splice(0)) manager.stop();
    preferred.close();
    fallback.close();
  });

  function peer(id: NodeId, options: { maxConnections?: number; only?: 'preferred'; timers?: Timers } = {}): Peer {
    const logger = recordingLogger();
    const transports = [new MemoryTransport(preferred, id, { logger })];
    if (options.only === undefined) transports.push(new MemoryTransport(fallback, id, { logger }));
    const manager = new ConnectionManager({
      localId: id,
      transports,
      maxConnections: options.maxConnections,
      backoff: fastBackoff,
      logger,
      random: () => 0.5,
      timers: options.timers,
    });
    managers.push(manager);
    const events: ConnectionStateEvent[] = [];
    const opened: PeerConnection[] = [];
    manager.onStateChange((event) => events.push(event));
    manager.onConnection((connection) => opened.push(connection));
    manager.start();
    return { manager, events, opened };
  }

  /** True when both hold exactly one connection, to each other, and they are the two ends of one link. */
  async function linkedOnce(x: Peer, y: Peer, via: string): Promise<void> {
    await eventually(() => x.manager.connections.length === 1 && y.manager.connections.length === 1);
    const [atX] = x.manager.connections;
    const [atY] = y.manager.connections;
    expect(atX!.via).to.equal(via);
    expect(atY!.via).to.equal(via);
    const toY = inbox(atY!);
    await atX!.send(patterned(4, 9));
    await eventually(() => toY.length === 1);
    expect(atX!.state).to.equal('open');
    expect(atY!.state).to.equal('open');
  }

  it('wanting each other at once makes one connection per peer', async () => {
    const a = peer(alice);
    const b = peer(bob);
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    b.manager.keepConnected({ nodeId: alice, via: 'webrtc' });
    await linkedOnce(a, b, 'webrtc');
    expect(a.opened).to.have.length(1);
    expect(b.opened).to.have.length(1);
    expect(await a.manager.connectToPeer({ nodeId: bob, via: 'broadcast' }), 'connectToPeer resolves connected').to.equal(true);
    expect(a.manager.connections).to.have.length(1);
  });

  it('a peer found over the fallback first moves to the preferred transport once found there', async () => {
    const a = peer(alice);
    const b = peer(bob);
    b.manager.keepConnected({ nodeId: alice, via: 'broadcast' });
    b.manager.keepConnected({ nodeId: alice, via: 'webrtc' });
    await linkedOnce(a, b, 'webrtc');
  });

  for (const first of ['preferred', 'fallback', 'both at once'] as const) {
    it(`duplicate connections over two transports (${first} first): both ends keep the preferred one`, async () => {
      const a = peer(alice);
      const b = peer(bob);
      const viaPreferred = () => b.manager.connectToPeer({ nodeId: alice, via: 'webrtc' });
      const viaFallback = () => a.manager.connectToPeer({ nodeId: bob, via: 'broadcast' });
      if (first === 'preferred') {
        await viaPreferred();
        await viaFallback();
      } else if (first === 'fallback') {
        await viaFallback();
        await viaPreferred();
      } else {
        await Promise.all([viaPreferred(), viaFallback()]);
      }
      await linkedOnce(a, b, 'webrtc');
      // Every fallback connection that opened was closed at both ends.
      const openFallback = [...a.opened, ...b.opened].filter((connection) => connection.via === 'broadcast');
      await eventually(() => openFallback.every((connection) => connection.state === 'closed'));
    });
  }

  it('refuses connections beyond maxConnections', async () => {
    const a = peer(alice, { maxConnections: 1 });
    const b = peer(bob);
    const c = peer(carol);
    expect(await b.manager.connectToPeer({ nodeId: alice, via: 'webrtc' }), 'connectToPeer resolves connected').to.equal(true);
    await c.manager.connectToPeer({ nodeId: alice, via: 'webrtc' });
    await eventually(() => c.events.some((event) => event.state === 'closed'));
    const refusal = c.events.find((event) => event.state === 'closed');
    expect(refusal?.reason).to.contain('too many connections');
    expect(a.manager.connections.map((connection) => connection.peerId)).to.deep.equal([bob]);
    // Reaching out is refused too while full.
    expect(await a.manager.connectToPeer({ nodeId: carol, via: 'webrtc' }), 'connectToPeer past maxConnections resolves connected').to.equal(false);
    expect(a.events.at(-1)).to.deep.include({ peerId: carol, state: 'failed' });
  });

  it('reconnects a wanted peer with backoff after a drop, once the network heals', async () => {
    const a = peer(alice, { only: 'preferred' });
    const b = peer(bob, { only: 'preferred' });
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    await linkedOnce(a, b, 'webrtc');
    const first = a.manager.connections[0]!;
    const dropped = closed(first);
    preferred.disconnect(alice, bob);
    expect(await dropped).to.contain('disconnected');
    // While cut off, attempts keep failing and keep being retried.
    await eventually(() => a.events.filter((event) => event.state === 'failed').length >= 3);
    preferred.heal();
    await linkedOnce(a, b, 'webrtc');
    expect(a.manager.connections[0]).to.not.equal(first);
    expect(a.events.map((event) => event.state)).to.include.members(['open', 'closed', 'connecting', 'failed']);
  });

  it('stops reconnecting a peer once it is released', async () => {
    const timers = new ManualTimers();
    const a = peer(alice, { only: 'preferred', timers });
    const b = peer(bob, { only: 'preferred' });
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    await linkedOnce(a, b, 'webrtc');
    a.manager.release(bob, 'webrtc');
    expect(a.manager.connections).to.have.length(1); // an open connection stays
    const dropped = closed(a.manager.connections[0]!);
    preferred.disconnect(alice, bob);
    await dropped;
    // A lost connection is retried only from a timer; a released peer gets none.
    expect(timers.scheduled, 'retries scheduled').to.equal(0);
    expect(a.manager.connections).to.have.length(0);
    // Kept connected, the same loss is retried: the count above can see a retry.
    preferred.heal();
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    await eventually(() => a.manager.connections.length === 1, 'alice connected again');
    const droppedAgain = closed(a.manager.connections[0]!);
    preferred.disconnect(alice, bob);
    await droppedAgain;
    expect(timers.scheduled, 'retries scheduled').to.equal(1);
  });

  it('pause closes everything and refuses, resume reconnects every wanted peer', async () => {
    const a = peer(alice);
    const b = peer(bob);
    const c = peer(carol);
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    a.manager.keepConnected({ nodeId: carol, via: 'broadcast' });
    await eventually(() => a.manager.connections.length === 2);
    const ends = a.manager.connections.map((connection) => closed(connection));
    a.manager.pause();
    expect(a.manager.isPaused, 'isPaused after pause()').to.equal(true);
    expect(await Promise.all(ends)).to.deep.equal(['working offline', 'working offline']);
    expect(a.manager.connections).to.have.length(0);
    // Peers reaching in are refused while paused.
    await b.manager.connectToPeer({ nodeId: alice, via: 'webrtc' });
    await eventually(() => b.manager.connections.length === 0 && b.events.at(-1)?.state === 'closed');
    expect(b.events.at(-1)?.reason).to.contain('working offline');
    a.manager.resume();
    await eventually(() => a.manager.connections.length === 2);
    expect(a.manager.connections.map((connection) => connection.peerId).sort()).to.deep.equal([bob, carol]);
    expect(c.manager.connections.map((connection) => connection.peerId)).to.deep.equal([alice]);
  });

  it('peers wanted before start are reached on start', async () => {
    const logger = recordingLogger();
    const manager = new ConnectionManager({ localId: alice, transports: [new MemoryTransport(preferred, alice, { logger })], backoff: fastBackoff, logger });
    managers.push(manager);
    const b = peer(bob, { only: 'preferred' });
    manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    expect(manager.connections).to.have.length(0);
    manager.start();
    await eventually(() => manager.connections.length === 1 && b.manager.connections.length === 1);
  });

  it('stop closes every connection and cancels retries', async () => {
    const timers = new ManualTimers();
    const a = peer(alice, { only: 'preferred', timers });
    const b = peer(bob, { only: 'preferred' });
    a.manager.keepConnected({ nodeId: bob, via: 'webrtc' });
    a.manager.keepConnected({ nodeId: carol, via: 'webrtc' }); // never there: its retry waits
    await linkedOnce(a, b, 'webrtc');
    await eventually(() => timers.scheduled === 1, 'a retry for carol');
    const atBob = closed(b.manager.connections[0]!);
    a.manager.stop();
    expect(await atBob).to.contain('node stopped');
    expect(timers.scheduled, 'retries left after stop').to.equal(0);
    expect(await a.manager.connectToPeer({ nodeId: bob, via: 'webrtc' }), 'connectToPeer after stop resolves connected').to.equal(false);
  });

  it('a route over a transport the node lacks fails with a reason', async () => {
    const a = peer(alice, { only: 'preferred' });
    expect(await a.manager.connectToPeer({ nodeId: bob, via: 'carrier-pigeon' }), 'connectToPeer over an unknown transport resolves connected').to.equal(false);
    expect(a.events.at(-1)).to.deep.include({ peerId: bob, state: 'failed', reason: 'no transport for carrier-pigeon' });
  });

  it('refuses nonsense configuration', () => {
    const transport = new MemoryTransport(preferred, alice, { logger: recordingLogger() });
    expect(() => new ConnectionManager({ localId: alice, transports: [] })).to.throw();
    expect(() => new ConnectionManager({ localId: alice, transports: [transport, transport] })).to.throw();
    expect(() => new ConnectionManager({ localId: alice, transports: [transport], maxConnections: 0 })).to.throw(RangeError);
    expect(() => new ConnectionManager({ localId: alice, transports: [transport], backoff: { initialMs: 10, maxMs: 1 } })).to.throw(RangeError);
  });
});
