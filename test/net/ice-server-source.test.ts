import { expect } from 'chai';
import { IceServerSource, NO_ICE, parseIceConfiguration, type KeyValueStore } from '../../src/net/ice-server-source.js';
import { recordingLogger } from './net-test-helpers.js';

const ANSWER = {
  iceServers: [{ urls: ['stun:127.0.0.1:3478'] }, { urls: ['turn:127.0.0.1:3478'], username: '1900000000:abc', credential: 'c2VjcmV0' }],
  iceTransportPolicy: 'all',
  expiresAt: 1_900_000_000,
};

function memoryStore(): KeyValueStore & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

const answering = (body: unknown, status = 200) => (() => Promise.resolve(new Response(JSON.stringify(body), { status }))) as typeof fetch;
const failing = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch;

describe('IceServerSource', () => {
  it('takes a good answer, keeps it for a start without the server, and keeps it when a later fetch fails', async () => {
    const store = memoryStore();
    const first = new IceServerSource({ url: '/ice-servers', fetchImpl: answering(ANSWER), store, logger: recordingLogger() });
    expect(first.current()).to.deep.equal(NO_ICE);
    expect(await first.refresh(), 'refresh() took the answer').to.equal(true);
    expect(first.current()).to.deep.equal(ANSWER);

    const offline = new IceServerSource({ url: '/ice-servers', fetchImpl: failing, store, logger: recordingLogger() });
    expect(offline.current(), 'the stored answer, before any fetch').to.deep.equal(ANSWER);
    expect(await offline.refresh(), 'refresh() took an answer from a failing fetch').to.equal(false);
    expect(offline.current()).to.deep.equal(ANSWER);
  });

  it('refuses malformed or hostile answers and changes nothing', async () => {
    const bad: unknown[] = [
      null,
      [],
      { iceServers: 'stun:x' },
      { iceServers: [{ urls: 'http://evil.test' }] },
      { iceServers: [{ urls: [] }] },
      { iceServers: [{ urls: 'turn:x', username: 5 }] },
      { iceServers: [], iceTransportPolicy: 'none' },
      { iceServers: [], expiresAt: 'soon' },
      { iceServers: Array.from({ length: 17 }, () => ({ urls: 'stun:x' })) },
    ];
    for (const body of bad) expect(parseIceConfiguration(body), JSON.stringify(body)).to.have.property('error');
    const store = memoryStore();
    const source = new IceServerSource({ url: '/ice-servers', fetchImpl: answering({ iceServers: [{ urls: 'http://evil.test' }] }), store, logger: recordingLogger() });
    expect(await source.refresh(), 'refresh() took a hostile answer').to.equal(false);
    expect(source.current()).to.deep.equal(NO_ICE);
    expect(store.items.size).to.equal(0);
    const notFound = new IceServerSource({ url: '/ice-servers', fetchImpl: answering('nope', 404), store, logger: recordingLogger() });
    expect(await notFound.refresh(), 'refresh() took a 404 answer').to.equal(false);
  });

  it('an unconfigured server changes nothing: no ICE servers, all candidates', () => {
    expect(parseIceConfiguration({ iceServers: [], iceTransportPolicy: 'all', expiresAt: null })).to.deep.equal(NO_ICE);
  });
});
