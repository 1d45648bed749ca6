import { expect } from 'chai';
import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import type { SignalingChannel } from '../../src/net/peer-discovery.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { WebRtcTransport, type WebRtcTransportOptions } from '../../src/net/webrtc-transport.js';
import { decodeRtcEnvelope, encodeRtcEnvelope } from '../../src/net/webrtc-signal.js';
import { alice, bob, closed, eventually, inbox, nextConnection, patterned, recordingLogger, rejection, uniqueRoom } from './net-test-helpers.js';
import { expectSameBytes } from '../expectations.js';

/** Records the configuration of every RTCPeerConnection made while installed. */
function recordPeerConnections(): { readonly configs: RTCConfiguration[]; restore(): void } {
  const Original = globalThis.RTCPeerConnection;
  const configs: RTCConfiguration[] = [];
  class Recording extends Original {
    constructor(config?: RTCConfiguration) {
      configs.push(config ?? {});
      super(config);
    }
  }
  globalThis.RTCPeerConnection = Recording as typeof RTCPeerConnection;
  return { configs, restore: () => void (globalThis.RTCPeerConnection = Original) };
}

describe('WebRtcTransport', () => {
  let network: MemoryNetwork;
  let room: string;
  const cleanups: Array<() => void> = [];
  beforeEach(() => {
    network = new MemoryNetwork({ kind: 'webrtc' });
    room = uniqueRoom();
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
    network.close();
  });

  function discovery(nodeId: NodeId): MemoryDiscovery {
    const made = new MemoryDiscovery(network, { room, nodeId, logger: recordingLogger() });
    void made.start();
    cleanups.push(() => void made.stop());
    return made;
  }

  function transport(localId: NodeId, options: Partial<WebRtcTransportOptions> = {}, signaling: SignalingChannel = discovery(localId)): WebRtcTransport {
    const made = new WebRtcTransport({ localId, signaling, logger: recordingLogger(), ...options });
    cleanups.push(() => made.close());
    return made;
  }

  async function pair(options: Partial<WebRtcTransportOptions> = {}): Promise<[WebRtcTransport, WebRtcTransport, PeerConnection, PeerConnection]> {
    const a = transport(alice, options);
    const b = transport(bob, options);
    const incoming = nextConnection(b);
    const atAlice = await a.connect(bob);
    return [a, b, atAlice, await incoming];
  }

  it('binds each connection to its DTLS channel: both ends hold the same fingerprints, another connection others', async () => {
    const [, , atAlice, atBob] = await pair();
    const binding = new TextDecoder().decode(atAlice.channelBinding);
    expect(binding).to.match(/^ednet-p2p\/dtls\u0000sha-256 [0-9A-F:]{95}\u0000sha-256 [0-9A-F:]{95}$/);
    expect(new TextDecoder().decode(atBob.channelBinding)).to.equal(binding);
    const carol = transport(asNodeId('carol'));
    const incoming = nextConnection(carol);
    const atAliceToCarol = await transport(asNodeId('dave')).connect(asNodeId('carol'));
    await incoming;
    expect(new TextDecoder().decode(atAliceToCarol.channelBinding)).to.not.equal(binding);
  });

  it('binds from the offer and answer as signalled, even when the channel opens before the peer connection shows its remote description', async () => {
    // On a loaded machine the data channel of the offering end opened while the answer, applied
    // already, did not show as `remoteDescription` yet: that end bound nothing, the other end bound
    // both fingerprints, and both authentication proofs failed. Here no remote description shows.
    const descriptor = Object.getOwnPropertyDescriptor(RTCPeerConnection.prototype, 'remoteDescription')!;
    Object.defineProperty(RTCPeerConnection.prototype, 'remoteDescription', { configurable: true, get: () => null });
    cleanups.push(() => Object.defineProperty(RTCPeerConnection.prototype, 'remoteDescription', descriptor));
    const [, , atAlice, atBob] = await pair();
    const binding = new TextDecoder().decode(atAlice.channelBinding);
    expect(binding).to.match(/^ednet-p2p\/dtls\u0000sha-256 [0-9A-F:]{95}\u0000sha-256 [0-9A-F:]{95}$/);
    expect(new TextDecoder().decode(atBob.channelBinding)).to.equal(binding);
  });

  it('ends a connection whose peer stops answering, long before ICE would notice', async () => {
    const [, , atAlice, atBob] = await pair({ heartbeatMs: 50 });
    const gone = closed(atAlice);
    // Bob freezes: no heartbeat of its own and no answer to anything (a lost network, a frozen tab).
    const frozen = atBob as unknown as { heartbeat: ReturnType<typeof setInterval>; frame: (data: Uint8Array) => void };
    clearInterval(frozen.heartbeat);
    frozen.frame = () => undefined;
    expect(await gone).to.equal('the peer stopped answering');
  });

  it('keeps a quiet but present peer: probes are answered whatever its timers do', async function () {
    // A slow machine may starve the page for longer than a short heartbeat; 200 ms keeps the
    // probes frequent enough for the test while a loaded machine does not look like a dead peer.
    this.timeout(60_000);
    const [, , atAlice, atBob] = await pair({ heartbeatMs: 200 });
    // Bob's own heartbeat stops (a background tab whose timers barely run); it still answers.
    clearInterval((atBob as unknown as { heartbeat: ReturnType<typeof setInterval> }).heartbeat);
    const pings: number[] = [];
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
      if ((data as Uint8Array).byteLength === 1) pings.push((data as Uint8Array)[0]!);
      return send.call(this, data);
    };
    cleanups.push(() => void (RTCDataChannel.prototype.send = send));
    await eventually(() => pings.filter((kind) => kind === 3).length >= 5 && pings.filter((kind) => kind === 4).length >= 5);
    expect(atAlice.state).to.equal('open');
    expect(atBob.state).to.equal('open');
    const received = inbox(atBob);
    await atAlice.send(new TextEncoder().encode('still here'));
    await eventually(() => received.length === 1);
  });

  it('gives every peer connection no ICE servers unless told, and the given ones otherwise', async () => {
    const recorder = recordPeerConnections();
    cleanups.push(() => recorder.restore());
    await pair();
    expect(recorder.configs).to.have.length(2);
    for (const config of recorder.configs) expect(config.iceServers).to.deep.equal([]);

    const iceServers = [{ urls: 'stun:127.0.0.1:3478' }];
    const c = transport(asNodeId('carol'), { iceServers, connectTimeoutMs: 200 });
    await rejection(c.connect(asNodeId('dave')));
    expect(recorder.configs[2]!.iceServers).to.deep.equal(iceServers);
  });

  it('a peer that answers but cannot be reached: "no relay configured", to the caller and to onUnreachable, once', async () => {
    // Their offers and answers pass, their addresses do not: as between two networks with no relay.
    // (The timeout only has to outlast one offer and answer on this machine.)
    const noCandidates = (inner: SignalingChannel): SignalingChannel => ({
      sendSignal: (to, data) => {
        const envelope = decodeRtcEnvelope(data);
        if (typeof envelope !== 'string' && envelope.kind === 'signal' && 'candidate' in envelope.data) return;
        inner.sendSignal(to, data);
      },
      onSignal: (listener) => inner.onSignal(listener),
    });
    const carol = asNodeId('carol');
    const dave = asNodeId('dave');
    const c = transport(carol, { iceServers: [], connectTimeoutMs: 5000 }, noCandidates(discovery(carol)));
    const d = transport(dave, { iceServers: [], connectTimeoutMs: 5000 }, noCandidates(discovery(dave)));
    d.onConnection(() => undefined);
    const unreachable: Array<{ peerId: string; problem: string }> = [];
    c.onUnreachable((event) => unreachable.push({ peerId: event.peerId, problem: event.problem }));
    const error = await rejection(c.connect(dave));
    expect(error.message).to.match(/could not connect to dave within 5000 ms: no relay configured/);
    expect(unreachable).to.deep.equal([{ peerId: 'dave', problem: 'no relay configured' }]);
  });

  it('a peer that never answers is no network problem: the attempt times out and nothing is reported', async () => {
    const c = transport(asNodeId('carol'), { iceServers: [], connectTimeoutMs: 200 });
    const unreachable: unknown[] = [];
    c.onUnreachable((event) => unreachable.push(event));
    const error = await rejection(c.connect(asNodeId('dave')));
    expect(error.message).to.match(/could not connect to dave within 200 ms$/);
    expect(unreachable).to.deep.equal([]);
  });

  it('sends a 10 MB message without ever queueing more than the high-water mark in the channel', async () => {
    const highWaterMark = 256 * 1024;
    const [, , atAlice, atBob] = await pair({ backpressure: { highWaterMark, lowWaterMark: 64 * 1024 } });
    const send = RTCDataChannel.prototype.send;
    let mostQueued = 0;
    let frames = 0;
    RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
      mostQueued = Math.max(mostQueued, this.bufferedAmount);
      frames++;
      return send.call(this, data);
    };
    cleanups.push(() => void (RTCDataChannel.prototype.send = send));
    const toBob = inbox(atBob);
    const large = patterned(10 * 1024 * 1024, 5);
    await atAlice.send(large);
    await eventually(() => toBob.length === 1);
    RTCDataChannel.prototype.send = send;
    expect(frames).to.equal(640);
    // A frame is only handed over while at most the high-water mark waits.
    expect(mostQueued).to.be.at.most(highWaterMark);
    expectSameBytes(toBob[0]!, large);
  });

  it('ignores malformed, stale and out-of-protocol signals, and still connects', async () => {
    const signals: Array<(from: NodeId, data: unknown) => void> = [];
    const fake: SignalingChannel = {
      sendSignal: () => undefined,
      onSignal: (listener) => {
        signals.push(listener);
        return () => undefined;
      },
    };
    const b = transport(bob, {}, fake);
    b.onConnection(() => expect.fail('no connection may come of bad signals'));
    const inject = (from: string, data: unknown) => signals.forEach((listener) => listener(from as NodeId, data));
    const offer = { type: 'offer', sdp: 'v=0\r\n' };
    const bad: Array<[string, unknown]> = [
      ['alice', 'not an object'],
      ['alice', { t: 'rtc', v: 2, kind: 'request' }],
      ['alice', { t: 'rtc', v: 1, kind: 'signal', session: 'bad session!', data: offer }],
      ['alice', encodeRtcEnvelope({ kind: 'signal', session: 'stale', data: { type: 'answer', sdp: 'v=0' } })],
      ['alice', { t: 'rtc', v: 1, kind: 'signal', session: 's1', data: { type: 'renegotiate' } }],
      ['alice', { t: 'rtc', v: 1, kind: 'signal', session: 's1', data: { type: 'candidate', candidate: { candidate: 'x' } } }],
      ['carol', encodeRtcEnvelope({ kind: 'signal', session: 's2', data: { type: 'offer', sdp: 'v=0' } })], // carol > bob never offers
      ['alice', encodeRtcEnvelope({ kind: 'request' })], // alice < bob never requests
      ['not valid!', encodeRtcEnvelope({ kind: 'request' })],
      ['bob', encodeRtcEnvelope({ kind: 'request' })],
    ];
    for (const [from, data] of bad) inject(from, data);
    expect(b.ignoredSignals).to.equal(bad.length);
    expect(b.openConnections).to.have.length(0);
  });

  it('an offer the browser cannot use fails that attempt only', async () => {
    const a = transport(alice, { connectTimeoutMs: 5000 });
    const b = transport(bob);
    const announced: PeerConnection[] = [];
    b.onConnection((connection) => announced.push(connection));
    // aaron < bob may offer, but this SDP is no session description at all.
    const aaron = discovery(asNodeId('aaron'));
    aaron.sendSignal(bob, encodeRtcEnvelope({ kind: 'signal', session: 'garbled', data: { type: 'offer', sdp: 'v=0\r\n' } }));
    const atAlice = await a.connect(bob);
    expect(atAlice.state).to.equal('open');
    await eventually(() => announced.length > 0);
    expect(announced.map((connection) => connection.peerId)).to.deep.equal([alice]);
    expect(b.openConnections).to.have.length(1);
  });

  it('a new offer from a reloaded lower peer replaces its old connection', async () => {
    const [, b, atAlice, atBob] = await pair();
    const oldEnd = closed(atBob);
    // alice's page reloads: the old signaling client is gone (its data channel lingers), a new one joins.
    const aliceDiscovery = network.roomMembers(room).get(alice)!;
    await aliceDiscovery.stop();
    const reloaded = transport(alice);
    const incoming = nextConnection(b);
    const fresh = await reloaded.connect(bob);
    const atBobFresh = await incoming;
    expect(await oldEnd).to.equal('peer opened a new connection');
    expect(atBobFresh).to.not.equal(atBob);
    const toBob = inbox(atBobFresh);
    await fresh.send(patterned(21));
    await eventually(() => toBob.length === 1);
    expect(atAlice.peerId).to.equal(bob);
  });

  it('a request from a reloaded higher peer replaces its old connection', async () => {
    const [a, , , atBob] = await pair();
    const atAliceOld = a.openConnections[0]!;
    const oldEnd = closed(atAliceOld);
    await network.roomMembers(room).get(bob)!.stop();
    const reloaded = transport(bob);
    const incoming = nextConnection(a);
    const fresh = await reloaded.connect(alice);
    const atAliceFresh = await incoming;
    expect(await oldEnd).to.equal('peer opened a new connection');
    const toAlice = inbox(atAliceFresh);
    await fresh.send(patterned(22));
    await eventually(() => toAlice.length === 1);
    expect(atBob.peerId).to.equal(alice);
  });

  it('a peer that missed our offer gets a fresh one when it asks, and our connect is answered too', async () => {
    const a = transport(alice, { connectTimeoutMs: 15_000 });
    // bob is not in the room yet: alice's offer goes nowhere.
    const bobDiscovery = new MemoryDiscovery(network, { room, nodeId: bob, logger: recordingLogger() });
    cleanups.push(() => void bobDiscovery.stop());
    const b = transport(bob, {}, bobDiscovery);
    a.onConnection(() => expect.fail('the connection answers alice\'s connect, it is not announced'));
    const fromAlice = a.connect(bob);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await bobDiscovery.start();
    const [atAlice, atBob] = await Promise.all([fromAlice, b.connect(alice)]);
    expect(atAlice.peerId).to.equal(bob);
    expect(atBob.peerId).to.equal(alice);
    expect(a.openConnections).to.have.length(1);
  });

  it('closes its connections, telling the peers, when the page is hidden', async () => {
    const [a, , atAlice, atBob] = await pair({ watchPage: true });
    const bobSees = closed(atBob);
    window.dispatchEvent(new Event('pagehide'));
    expect(await closed(atAlice)).to.equal('page hidden');
    expect(await bobSees).to.contain('page hidden');
    a.close();
  });

  it('refuses incoming connections beyond maxConnections', async () => {
    const a = transport(alice);
    const b = transport(bob, { maxConnections: 1 });
    b.onConnection(() => undefined);
    await a.connect(bob);
    const carol = transport(asNodeId('aaron'));
    const refused = await rejection(carol.connect(bob));
    expect(refused.message).to.contain('too many connections');
  });

  it('a peer that stops answering during setup times the attempt out', async () => {
    const a = transport(alice, { connectTimeoutMs: 300 });
    // bob's signals reach alice, but alice's never reach bob.
    const b = transport(bob, {}, { sendSignal: () => undefined, onSignal: () => () => undefined });
    b.onConnection(() => undefined);
    const error = await rejection(a.connect(bob));
    expect(error.message).to.contain('within 300 ms');
  });

  it('a closed connection makes the peer notice even when it was mid-message', async () => {
    const [, , atAlice, atBob] = await pair();
    const bobSees = closed(atBob);
    const sending = atAlice.send(patterned(8 * 1024 * 1024));
    atAlice.close('interrupted');
    await rejection(sending);
    expect(await bobSees).to.contain('interrupted');
  });
});
