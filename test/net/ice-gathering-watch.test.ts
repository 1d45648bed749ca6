import { expect } from 'chai';
import { IceGatheringWatch, IceProblem } from '../../src/net/ice-gathering-watch.js';

const RELAY = { iceServers: [{ urls: 'turn:127.0.0.1:3478', username: '1:x', credential: 'y' }], iceTransportPolicy: 'relay' as const };

/** A peer connection's gathering, played by the test event by event. */
class ScriptedGathering extends EventTarget {
  iceGatheringState: RTCIceGatheringState = 'gathering';
  candidate(type: 'host' | 'relay'): void {
    this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: { type, candidate: `candidate:1 1 udp 1 127.0.0.1 5000 typ ${type} ` } }));
  }
  error(errorCode: number): void {
    this.dispatchEvent(Object.assign(new Event('icecandidateerror'), { errorCode }));
  }
  complete(): void {
    this.iceGatheringState = 'complete';
    this.dispatchEvent(new Event('icegatheringstatechange'));
    this.dispatchEvent(Object.assign(new Event('icecandidate'), { candidate: null }));
  }
}

function watch(config: ConstructorParameters<typeof IceGatheringWatch>[1]) {
  const pc = new ScriptedGathering();
  const told: IceProblem[] = [];
  const ice = new IceGatheringWatch(pc as unknown as RTCPeerConnection, config, (problem) => told.push(problem));
  return { pc, told, ice };
}

describe('IceGatheringWatch: why a connection cannot be made', () => {
  it('relay only with no relay configured: says so as soon as a real peer connection has gathered', async () => {
    const pc = new RTCPeerConnection({ iceServers: [], iceTransportPolicy: 'relay' });
    try {
      const told = new Promise<IceProblem>((resolve) => new IceGatheringWatch(pc, { iceServers: [], iceTransportPolicy: 'relay' }, resolve));
      pc.createDataChannel('probe');
      await pc.setLocalDescription(await pc.createOffer());
      expect(await told).to.equal(IceProblem.noRelay);
      expect(IceProblem.noRelay).to.equal('no relay configured');
    } finally {
      pc.close();
    }
  });

  it('a relay answering 401 or 403 is "relay refused", told when gathering ends without a relay address', () => {
    for (const code of [401, 403]) {
      const { pc, told, ice } = watch(RELAY);
      pc.candidate('host');
      pc.error(code);
      expect(told).to.deep.equal([]);
      pc.complete();
      expect(told).to.deep.equal([IceProblem.relayRefused]);
      expect(ice.problem()).to.equal('relay refused');
      // Once only, however the end of gathering is reported.
      pc.complete();
      expect(told).to.have.length(1);
    }
  });

  it('a configured relay that gives no address and no refusal is "relay unreachable"; one that gives one is no problem', () => {
    const silent = watch(RELAY);
    silent.pc.error(701); // a STUN timeout: not a refusal
    silent.pc.complete();
    expect(silent.told).to.deep.equal([IceProblem.relayUnreachable]);

    const working = watch(RELAY);
    working.pc.candidate('relay');
    working.pc.complete();
    expect(working.told).to.deep.equal([]);
    expect(working.ice.problem()).to.equal(undefined);
  });

  it('with every transport allowed it tells nothing early (host addresses may still connect), but names the problem when asked', () => {
    const { pc, told, ice } = watch({ iceServers: [], iceTransportPolicy: 'all' });
    pc.candidate('host');
    pc.complete();
    expect(told).to.deep.equal([]);
    expect(ice.problem()).to.equal(IceProblem.noRelay);
    expect(watch({ iceServers: [{ urls: 'stun:127.0.0.1:3478' }] }).ice.problem()).to.equal(IceProblem.noRelay);
  });
});
