import { expect } from 'chai';
describe('smoke', () => { it('runs', () => { expect(typeof indexedDB).to.equal('object'); expect(typeof RTCPeerConnection).to.equal('function'); }); });
