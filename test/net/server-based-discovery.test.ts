import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import type { DiscoveryEvent } from '../../src/net/peer-discovery.js';
import { ServerBasedDiscovery, signalingUrl, type SignalingState, type WebSocketLike } from '../../src/net/server-based-discovery.js';
import { eventually, recordingLogger, uniqueIds, uniqueRoom } from './net-test-helpers.js';
import { privateSignalingServer, signalingServerUrl } from './signaling-server-url.js';

describe('ServerBasedDiscovery against the real signaling server', () => {
  let url: string;
  let room: string;
  const started: ServerBasedDiscovery[] = [];
  before(async () => {
    url = await signalingServerUrl();
  });
  beforeEach(() => {
    room = uniqueRoom();
  });
  afterEach(async () => {
    for (const discovery of started.splice(0)) await discovery.stop();
  });

  function member(nodeId: NodeId, serverUrl = url) {
    const logger = recordingLogger();
    const discovery = new ServerBasedDiscovery({
      url: serverUrl,
      room,
      nodeId,
      logger,
      backoff: { initialMs: 20, maxMs: 200 },
      reconnectOnOnline: false,
    });
    const events: DiscoveryEvent[] = [];
    const states: SignalingState[] = [];
    discovery.onEvent((event) => events.push(event));
    discovery.onConnectionState((state) => states.push(state));
    started.push(discovery);
    return { discovery, events, states, logger };
  }

  it('two peers of one room see each other, relay signals, and see each other leave', async () => {
    const [alice, bob] = uniqueIds('alice', 'bob');
    const a = member(alice!);
    const b = member(bob!);
    await a.discovery.start();
    expect(a.discovery.connectionState).to.equal('connected');
    expect(a.states).to.deep.equal(['connecting', 'connected']);
    await b.discovery.start();
    await eventually(() => a.events.length === 1 && b.events.length === 1);
    expect(a.events[0]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: bob, via: 'webrtc' } });
    expect(b.events[0]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: alice, via: 'webrtc' } });
    expect(await b.discovery.discoverPeers()).to.deep.equal([{ nodeId: alice, via: 'webrtc' }]);

    const signals: Array<[NodeId, unknown]> = [];
    b.discovery.onSignal((from, data) => signals.push([from, data]));
    a.discovery.sendSignal(bob!, { t: 'rtc', nested: [1, { x: 'y' }] });
    await eventually(() => signals.length === 1);
    expect(signals[0]).to.deep.equal([alice, { t: 'rtc', nested: [1, { x: 'y' }] }]);

    await b.discovery.stop();
    expect(b.discovery.connectionState).to.equal('disconnected');
    await eventually(() => a.events.length === 2);
    expect(a.events[1]).to.deep.include({ type: 'peer-disconnected', peerAddress: { nodeId: bob, via: 'webrtc' } });
    expect(a.events[1]!.type === 'peer-disconnected' && a.events[1]!.reason).to.be.a('string');
  });

  it('peers of other rooms stay apart', async () => {
    const [alice, bob] = uniqueIds('alice', 'bob');
    const a = member(alice!);
    await a.discovery.start();
    room = uniqueRoom();
    const b = member(bob!);
    await b.discovery.start();
    const [carol] = uniqueIds('carol');
    const c = member(carol!); // in bob's room
    await c.discovery.start();
    await eventually(() => b.events.length === 1);
    expect(b.events[0]!.peerAddress.nodeId).to.equal(carol);
    expect(a.events).to.deep.equal([]);
  });

  it('loses every peer when the server goes away, and finds them again when it is back', async () => {
    const server = await privateSignalingServer();
    const [alice, bob] = uniqueIds('alice', 'bob');
    const a = member(alice!, server.url);
    const b = member(bob!, server.url);
    await a.discovery.start();
    await b.discovery.start();
    await eventually(() => a.events.length === 1);
    await server.stop();
    await eventually(() => a.events.length === 2 && a.discovery.connectionState !== 'connected');
    expect(a.events[1]).to.deep.include({ type: 'peer-disconnected' });
    expect((a.events[1] as { reason: string }).reason).to.contain('signaling server connection lost');
    await server.start();
    await eventually(() => a.events.length === 3 && b.discovery.connectionState === 'connected');
    expect(a.events[2]).to.deep.equal({ type: 'peer-discovered', peerAddress: { nodeId: bob, via: 'webrtc' } });
    expect(a.discovery.connectionState).to.equal('connected');
  });

  it('start resolves (without joining) when no server answers, and keeps retrying', async () => {
    const server = await privateSignalingServer();
    await server.stop();
    const [alice] = uniqueIds('alice');
    const a = member(alice!, server.url);
    await a.discovery.start();
    expect(a.discovery.connectionState).to.not.equal('connected');
    await server.start();
    await eventually(() => a.discovery.connectionState === 'connected');
  });

  it('the server refuses a second peer with the same id in a room', async () => {
    const [alice] = uniqueIds('alice');
    const first = member(alice!);
    await first.discovery.start();
    const second = member(alice!);
    void second.discovery.start();
    await eventually(() => second.logger.warnings.some((warning) => warning.includes('peer-id-taken')));
    expect(second.discovery.connectionState).to.not.equal('connected');
  });

  it('builds the signaling URL next to the app', () => {
    expect(signalingUrl({ protocol: 'https:', host: 'example.org' })).to.equal('wss://example.org/signaling');
    expect(signalingUrl({ protocol: 'http:', host: 'localhost:8080' })).to.equal('ws://localhost:8080/signaling');
  });
});

/** A WebSocket stand-in the test drives: it opens at once and delivers whatever the test says. */
class ScriptedSocket implements WebSocketLike {
  static last: ScriptedSocket | undefined;
  readyState = 0;
  readonly sent: unknown[] = [];
  private readonly listeners = new Map<string, Array<(event: never) => void>>();
  constructor(readonly url: string) {
    ScriptedSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.emit('open', undefined as never);
    });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  /** Delivers one frame from the "server". */
  frame(data: unknown): void {
    this.emit('message', { data: typeof data === 'string' ? data : JSON.stringify(data) } as never);
  }
  private emit(type: string, event: never): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

describe('ServerBasedDiscovery checks every server frame', () => {
  it('proves the device when welcomed with a challenge, then joins; ignores and counts malformed frames, frames of other rooms and oversized ones', async () => {
    const logger = recordingLogger();
    const challenges: string[] = [];
    const discovery = new ServerBasedDiscovery({
      url: 'ws://127.0.0.1:9/signaling',
      room: 'r',
      nodeId: 'alice' as NodeId,
      WebSocketImpl: ScriptedSocket,
      logger,
      reconnectOnOnline: false,
      maxFrameBytes: 1000,
      proveDevice: (challenge) => {
        challenges.push(challenge);
        return Promise.resolve({ key: 'K', signature: 'S' });
      },
    });
    const events: DiscoveryEvent[] = [];
    const signals: unknown[] = [];
    discovery.onEvent((event) => events.push(event));
    discovery.onSignal((from, data) => signals.push([from, data]));
    const starting = discovery.start();
    await eventually(() => ScriptedSocket.last?.readyState === 1);
    const socket = ScriptedSocket.last!;
    expect(socket.sent, 'nothing before the welcome').to.deep.equal([]);
    const challenge = 'c'.repeat(43);
    socket.frame({ type: 'welcome', protocol: 2, challenge, deviceProof: 'required' });
    await eventually(() => socket.sent.length === 1);
    expect(challenges).to.deep.equal([challenge]);
    expect(socket.sent[0]).to.deep.equal({ type: 'auth', key: 'K', signature: 'S' });
    socket.frame({ type: 'authenticated', device: 'alice' });
    expect(socket.sent[1]).to.deep.equal({ type: 'join', room: 'r', peer: 'alice' });
    const bad: unknown[] = [
      'not json {',
      '[1,2]',
      { type: 'nonsense' },
      { type: 'joined', room: 'r', peer: 'alice', peers: ['ok', 'not ok!'] },
      { type: 'joined', room: 'other', peer: 'alice', peers: [] },
      { type: 'joined', room: 'r', peer: 'mallory', peers: [] },
      { type: 'peer-joined', room: 'r' },
      { type: 'peer-joined', room: 'r', peer: 'x'.repeat(65) },
      { type: 'signal', room: 'r', from: 'bob' },
      { type: 'error', message: 'no code' },
      { type: 'welcome' },
      { type: 'welcome', protocol: 2, challenge: 'not a challenge!' },
      { type: 'authenticated' },
      'x'.repeat(5000),
    ];
    for (const frame of bad) socket.frame(frame);
    expect(discovery.ignoredFrames).to.equal(bad.length);
    expect(discovery.connectionState).to.equal('connecting');
    socket.frame({ type: 'joined', room: 'r', peer: 'alice', peers: ['bob'] });
    await starting;
    expect(discovery.connectionState).to.equal('connected');
    socket.frame({ type: 'signal', room: 'r', from: 'bob', data: { any: 'json' } });
    socket.frame({ type: 'peer-left', room: 'r', peer: 'bob', reason: 'closed' });
    expect(events).to.deep.equal([
      { type: 'peer-discovered', peerAddress: { nodeId: 'bob', via: 'webrtc' } },
      { type: 'peer-disconnected', peerAddress: { nodeId: 'bob', via: 'webrtc' }, reason: 'closed' },
    ]);
    expect(signals).to.deep.equal([['bob', { any: 'json' }]]);
    expect(discovery.ignoredFrames).to.equal(bad.length);
    // Signals too large for the server are not sent.
    discovery.sendSignal('bob' as NodeId, { big: 'y'.repeat(2000) });
    expect(socket.sent.filter((frame) => (frame as { type: string }).type === 'signal')).to.have.length(0);
    await discovery.stop();
    expect(socket.sent.at(-1)).to.deep.equal({ type: 'leave', room: 'r' });
  });

  it('refuses nonsense configuration', () => {
    const base = { url: 'ws://127.0.0.1:9/signaling', room: 'r', nodeId: 'alice' as NodeId, WebSocketImpl: ScriptedSocket };
    expect(() => new ServerBasedDiscovery({ ...base, url: 'http://example.org' })).to.throw(TypeError);
    expect(() => new ServerBasedDiscovery({ ...base, room: 'bad room!' })).to.throw(TypeError);
    expect(() => new ServerBasedDiscovery({ ...base, nodeId: '' as NodeId })).to.throw(TypeError);
    expect(() => new ServerBasedDiscovery({ ...base, pingIntervalMs: 0 })).to.throw(RangeError);
  });
});
