import { expect } from 'chai';
import { deleteDB } from 'idb';
import { type NodeId, asNodeId } from '../../src/crdt/dot.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import type { PeerConnection } from '../../src/net/transport.js';
import {
  AUTH_VERSION,
  type AuthFrame,
  type AuthHello,
  authTranscript,
  decodeAuthFrame,
  encodeAuthFrame,
} from '../../src/security/auth-frames.js';
import {
  AuthenticationError,
  type AuthenticationFailureKind,
  authenticateConnection,
} from '../../src/security/authenticated-connection.js';
import { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import { DeviceIdentity } from '../../src/security/device-identity.js';
import { closed, eventually, inbox, nextConnection, recordingLogger, rejection } from '../net/net-test-helpers.js';
import { uniqueDbName } from '../store/unique-db-name.js';
import { expectSameBytes } from '../expectations.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

const encoder = new TextEncoder();
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const quiet = recordingLogger();

/** A link between two memory transports: `[from's end (to `to`), to's end (to `from`)]`. */
async function link(network: MemoryNetwork, from: NodeId, to: NodeId): Promise<[PeerConnection, PeerConnection]> {
  const transportFrom = new MemoryTransport(network, from, { logger: quiet });
  const transportTo = new MemoryTransport(network, to, { logger: quiet });
  const incoming = nextConnection(transportTo);
  const outgoing = await transportFrom.connect(to);
  return [outgoing, await incoming];
}

/** Resolves with the next message `connection` delivers. */
function nextMessage(connection: PeerConnection): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const unsubscribe = connection.onMessage((message) => {
      unsubscribe();
      resolve(message);
    });
  });
}

/** The next message, which must be a handshake frame of kind `t`. */
async function nextFrame<T extends AuthFrame['t']>(connection: PeerConnection, t: T): Promise<Extract<AuthFrame, { t: T }>> {
  const frame = decodeAuthFrame(await nextMessage(connection));
  if ('error' in frame || frame.t !== t) throw new Error(`expected ${t}, got ${JSON.stringify(frame)}`);
  return frame as Extract<AuthFrame, { t: T }>;
}

/** The kind of an `AuthenticationError` rejection. */
async function failureOf(promise: Promise<unknown>): Promise<AuthenticationFailureKind> {
  const error = await rejection(promise);
  expect(error).to.be.instanceOf(AuthenticationError);
  return (error as AuthenticationError).kind;
}

const randomBytes = (length: number): Uint8Array<ArrayBuffer> => crypto.getRandomValues(new Uint8Array(length));

describe('authenticateConnection', () => {
  const dbNames = [uniqueDbName(), uniqueDbName(), uniqueDbName()];
  let alice: DeviceIdentity;
  let bob: DeviceIdentity;
  let mallory: DeviceIdentity;
  let network: MemoryNetwork;

  before(async () => {
    [alice, bob, mallory] = await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name)))) as [DeviceIdentity, DeviceIdentity, DeviceIdentity];
  });

  after(async () => {
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });

  beforeEach(() => {
    network = new MemoryNetwork();
  });

  afterEach(() => {
    network.close();
  });

  it('authenticates both sides, then carries messages both ways', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const [atAlice, atBob] = await Promise.all([
      authenticateConnection(toBob, { identity: alice, localId: aliceId }),
      authenticateConnection(toAlice, { identity: bob, localId: bobId }),
    ]);
    expect(atAlice.peerId).to.equal(bobId);
    expect(atBob.peerId).to.equal(aliceId);
    expectSameBytes(atAlice.peerPublicKey, bob.publicKey);
    expectSameBytes(atBob.peerPublicKey, alice.publicKey);
    expect(atAlice.state).to.equal('open');

    const toBobMessage = nextMessage(atBob);
    const toAliceMessage = nextMessage(atAlice);
    await atAlice.send(encoder.encode('{"t":"hello from alice"}'));
    await atBob.send(encoder.encode('{"t":"hello from bob"}'));
    expect(text(await toBobMessage)).to.equal('{"t":"hello from alice"}');
    expect(text(await toAliceMessage)).to.equal('{"t":"hello from bob"}');

    const closedAtBob = closed(atBob);
    atAlice.close('done');
    expect(await closedAtBob).to.contain('done');
    expect(atBob.state).to.equal('closed');
  });

  it('accepts two tabs of one device (one key, two node ids)', async () => {
    const [tab1, tab2] = [alice.newNodeId(), alice.newNodeId()];
    const [to2, to1] = await link(network, tab1, tab2);
    const [at1, at2] = await Promise.all([
      authenticateConnection(to2, { identity: alice, localId: tab1 }),
      authenticateConnection(to1, { identity: alice, localId: tab2 }),
    ]);
    expect([at1.peerId, at2.peerId]).to.deep.equal([tab2, tab1]);
  });

  it("refuses a peer claiming another device's node id, and both sides see it fail", async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    // Mallory's transport is registered under Alice's id, as a lying signaling peer would be.
    const [toBob, toMallory] = await link(network, aliceId, bobId);
    const closedAtMallory = closed(toBob);
    const atBob = authenticateConnection(toMallory, { identity: bob, localId: bobId });
    await toBob.send(encodeAuthFrame({ t: 'auth-hello', v: AUTH_VERSION, node: aliceId, publicKey: mallory.publicKey, nonce: randomBytes(32) }));
    expect(await failureOf(atBob)).to.equal('wrong-id');
    expect(toMallory.state).to.equal('closed');
    expect(await closedAtMallory).to.match(/authentication failed: .* does not belong to the key/);
  });

  it('refuses an honest key whose hello names another node than the connection is to', async () => {
    const [aliceId, otherAliceTab, bobId] = [alice.newNodeId(), alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const atAlice = authenticateConnection(toBob, { identity: alice, localId: otherAliceTab });
    const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
    expect(await failureOf(atBob)).to.equal('wrong-id');
    expect(await failureOf(atAlice)).to.equal('closed');
    expect(toBob.state).to.equal('closed');
  });

  it("refuses a forged proof: Alice's id and public key, signed with another key", async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toMallory] = await link(network, aliceId, bobId);
    const bobHello = nextFrame(toBob, 'auth-hello');
    const atBob = authenticateConnection(toMallory, { identity: bob, localId: bobId });
    const hello: AuthHello = { t: 'auth-hello', v: AUTH_VERSION, node: aliceId, publicKey: alice.publicKey, nonce: randomBytes(32) };
    const signature = await mallory.sign(authTranscript(hello, await bobHello, aliceId));
    await toBob.send(encodeAuthFrame(hello));
    await toBob.send(encodeAuthFrame({ t: 'auth-proof', v: AUTH_VERSION, signature }));
    expect(await failureOf(atBob)).to.equal('bad-signature');
    expect(toMallory.state).to.equal('closed');
  });

  it("refuses Alice's hello and proof replayed from an earlier session", async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const first = new MemoryNetwork();
    const recorded: Uint8Array[] = [];
    try {
      const [toBob, toAlice] = await link(first, aliceId, bobId);
      // Bob's raw end records what Alice sent (both listeners get every message).
      toAlice.onMessage((message) => recorded.push(message));
      await Promise.all([
        authenticateConnection(toBob, { identity: alice, localId: aliceId }),
        authenticateConnection(toAlice, { identity: bob, localId: bobId }),
      ]);
    } finally {
      first.close();
    }
    expect(recorded.map((frame) => (decodeAuthFrame(frame) as { t: string }).t)).to.deep.equal(['auth-hello', 'auth-proof']);

    const [toBob, toMallory] = await link(network, aliceId, bobId);
    const atBob = authenticateConnection(toMallory, { identity: bob, localId: bobId });
    for (const frame of recorded) await toBob.send(frame);
    expect(await failureOf(atBob)).to.equal('bad-signature');
  });

  it("refuses a proof reflected back to its signer by a peer claiming another tab of the signer's device", async () => {
    const bobId = bob.newNodeId();
    const siblingTab = asNodeId(`${bob.deviceId}Reflect0`);
    const [toBob, toMallory] = await link(network, siblingTab, bobId);
    const bobHello = nextFrame(toBob, 'auth-hello');
    const atBob = authenticateConnection(toMallory, { identity: bob, localId: bobId });
    await bobHello;
    const bobProof = nextFrame(toBob, 'auth-proof');
    await toBob.send(encodeAuthFrame({ t: 'auth-hello', v: AUTH_VERSION, node: siblingTab, publicKey: bob.publicKey, nonce: randomBytes(32) }));
    await toBob.send(encodeAuthFrame(await bobProof));
    expect(await failureOf(atBob)).to.equal('bad-signature');
  });

  it('refuses proofs made for another channel binding', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const results = await Promise.allSettled([
      authenticateConnection(toBob, { identity: alice, localId: aliceId, channelBinding: encoder.encode('channel one') }),
      authenticateConnection(toAlice, { identity: bob, localId: bobId, channelBinding: encoder.encode('channel two') }),
    ]);
    const kinds = results.map((result) => (result.status === 'rejected' ? (result.reason as AuthenticationError).kind : 'authenticated'));
    expect(kinds).to.include('bad-signature');
    expect(kinds).not.to.include('authenticated');

    const second = new MemoryNetwork();
    try {
      const [toBob2, toAlice2] = await link(second, aliceId, bobId);
      const binding = encoder.encode('same channel');
      await Promise.all([
        authenticateConnection(toBob2, { identity: alice, localId: aliceId, channelBinding: binding }),
        authenticateConnection(toAlice2, { identity: bob, localId: bobId, channelBinding: binding }),
      ]);
    } finally {
      second.close();
    }
  });

  describe('refuses malformed frames', () => {
    const hello = (overrides: Partial<Record<'node' | 'version' | 'extra', unknown>> = {}): Uint8Array => {
      const frame = encodeAuthFrame({ t: 'auth-hello', v: AUTH_VERSION, node: asNodeId('x'), publicKey: randomBytes(32), nonce: randomBytes(32) });
      const node = encoder.encode(String(overrides.node ?? 'x'));
      const bytes = new Uint8Array([...frame.subarray(0, 67), ...node, ...((overrides.extra as number[]) ?? [])]);
      if (overrides.version !== undefined) bytes[2] = overrides.version as number;
      return bytes;
    };
    const cases: Array<[string, () => Uint8Array, RegExp]> = [
      ['a sync message first', () => encoder.encode('{"t":"hello","protocols":[1]}'), /sync data without authenticating/],
      ['random bytes', () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), /not a handshake frame/],
      ['an empty frame', () => new Uint8Array(0), /not a handshake frame/],
      ['a proof before the hello', () => encodeAuthFrame({ t: 'auth-proof', v: AUTH_VERSION, signature: randomBytes(64) }), /expected auth-hello/],
      ['a hello of another version', () => hello({ version: 2 }), /version 2 is not supported/],
      ['a hello cut short', () => hello().subarray(0, 40), /too short/],
      ['a hello with a bad node id', () => hello({ node: 'no spaces allowed' }), /bad node id/],
      ['a hello with a non-ASCII node id', () => hello({ extra: [0xc3, 0xa9] }), /bad node id/],
      ['an oversized frame', () => new Uint8Array(100_000).fill(0xff), /too long/],
      ['an unknown frame kind', () => new Uint8Array([0xff, 9, 1, 0, 0]), /unknown handshake frame kind 9/],
    ];
    for (const [what, frame, message] of cases) {
      it(`${what}`, async () => {
        const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
        const [toBob, toPeer] = await link(network, aliceId, bobId);
        const closedAtPeer = closed(toBob);
        const atBob = authenticateConnection(toPeer, { identity: bob, localId: bobId });
        await toBob.send(frame());
        const error = await rejection(atBob);
        expect((error as AuthenticationError).kind).to.equal('malformed');
        expect(error.message).to.match(message);
        expect(await closedAtPeer).to.contain('authentication failed');
      });
    }

    it('a proof whose signature has the wrong length, after a valid hello', async () => {
      const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
      const [toBob, toAlice] = await link(network, aliceId, bobId);
      const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
      await toBob.send(encodeAuthFrame({ t: 'auth-hello', v: AUTH_VERSION, node: aliceId, publicKey: alice.publicKey, nonce: randomBytes(32) }));
      await toBob.send(new Uint8Array([0xff, 2, 1, ...randomBytes(63)]));
      const error = await rejection(atBob);
      expect((error as AuthenticationError).kind).to.equal('malformed');
      expect(error.message).to.match(/signature must be 64 bytes/);
    });
  });

  it('times out when the peer never answers, and closes the connection', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toSilent] = await link(network, aliceId, bobId);
    const closedAtSilent = closed(toBob);
    const error = await rejection(authenticateConnection(toSilent, { identity: bob, localId: bobId, timeoutMs: 50 }));
    expect((error as AuthenticationError).kind).to.equal('timeout');
    expect(toSilent.state).to.equal('closed');
    expect(await closedAtSilent).to.match(/authentication failed: no proof/);
  });

  it('loses no message that arrives with the proof, before anyone listens', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const bobHello = nextFrame(toBob, 'auth-hello');
    const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
    const hello: AuthHello = { t: 'auth-hello', v: AUTH_VERSION, node: aliceId, publicKey: alice.publicKey, nonce: randomBytes(32) };
    const signature = await alice.sign(authTranscript(hello, await bobHello, aliceId));
    // One burst: Bob is still checking the hello when the proof and the data arrive.
    void toBob.send(encodeAuthFrame(hello));
    void toBob.send(encodeAuthFrame({ t: 'auth-proof', v: AUTH_VERSION, signature }));
    for (const n of [1, 2, 3]) void toBob.send(encoder.encode(`{"n":${n}}`));
    const authenticated = await atBob;
    await new Promise((resolve) => setTimeout(resolve, 20));
    void toBob.send(encoder.encode('{"n":4}'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const received = inbox(authenticated);
    await eventually(() => received.length >= 4, 'four messages');
    expect(received.map(text)).to.deep.equal(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
  });

  it('loses no message the peer sends as soon as it is authenticated', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
    const atAlice = await authenticateConnection(toBob, { identity: alice, localId: aliceId });
    for (const n of [1, 2, 3]) void atAlice.send(encoder.encode(`{"n":${n}}`));
    const authenticated = await atBob;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const received = inbox(authenticated);
    await eventually(() => received.length >= 3, 'three messages');
    expect(received.map(text)).to.deep.equal(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('rejects when the peer closes during the handshake', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const bobHello = nextFrame(toBob, 'auth-hello');
    const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
    await bobHello;
    toBob.close('changed my mind');
    const error = await rejection(atBob);
    expect((error as AuthenticationError).kind).to.equal('closed');
    expect(error.message).to.contain('changed my mind');
  });

  it('rejects when this side closes during the handshake, or the connection was already closed', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [, toAlice] = await link(network, aliceId, bobId);
    const atBob = authenticateConnection(toAlice, { identity: bob, localId: bobId });
    toAlice.close('leaving');
    expect(await failureOf(atBob)).to.equal('closed');
    expect(await failureOf(authenticateConnection(toAlice, { identity: bob, localId: bobId }))).to.equal('closed');
  });

  it('throws for bad options without touching the connection', async () => {
    const [aliceId, bobId] = [alice.newNodeId(), bob.newNodeId()];
    const [toBob, toAlice] = await link(network, aliceId, bobId);
    const atAlice = inbox(toBob);
    const notBobs = await rejection(authenticateConnection(toAlice, { identity: bob, localId: aliceId }));
    expect(notBobs).to.be.instanceOf(TypeError);
    const badTimeout = await rejection(authenticateConnection(toAlice, { identity: bob, localId: bobId, timeoutMs: 0 }));
    expect(badTimeout).to.be.instanceOf(TypeError);
    const badBinding = await rejection(authenticateConnection(toAlice, { identity: bob, localId: bobId, channelBinding: 'x' as never }));
    expect(badBinding).to.be.instanceOf(TypeError);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(atAlice).to.have.length(0);
    expect(toAlice.state).to.equal('open');
  });
});

describe('EDNetP2PNode with authenticate', () => {
  const dbNames = [uniqueDbName(), uniqueDbName()];
  const nodes: EDNetP2PNode[] = [];
  let network: MemoryNetwork;
  let alice: DeviceIdentity;
  let bob: DeviceIdentity;

  before(async () => {
    [alice, bob] = (await Promise.all(dbNames.map((name) => DeviceIdentity.load(new IndexedDbDeviceKeyStore(name))))) as [DeviceIdentity, DeviceIdentity];
  });

  after(async () => {
    await Promise.all(dbNames.map((name) => deleteDB(name)));
  });

  beforeEach(() => {
    network = new MemoryNetwork();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    network.close();
  });

  function start(nodeId: NodeId, identity: DeviceIdentity | null, logger = recordingLogger()) {
    const model = new ElectoralSystemModel({ modelId: 'election', nodeId });
    const node = new EDNetP2PNode({
      nodeId,
      transports: [new MemoryTransport(network, nodeId, { logger: quiet })],
      discoveries: [new MemoryDiscovery(network, { room: 'room', nodeId })],
      backoff: { initialMs: 20, maxMs: 200 },
      followBrowserOnline: false,
      logger,
      authenticate: identity ? (connection) => authenticateConnection(connection, { identity, localId: nodeId, logger: quiet }) : undefined,
    });
    node.registerDomainModel('election', model);
    nodes.push(node);
    return { node, model, logger, started: node.start() };
  }

  it("syncs authenticated peers and keeps one that does not authenticate away from the engine", async () => {
    const bobPeer = start(bob.newNodeId(), bob);
    // A node without the handshake, under an id of Alice's device: it opens with a sync hello.
    const impostor = start(asNodeId(`${alice.deviceId}Imposter`), null);
    impostor.model.createElection({ title: 'Forged' });
    await Promise.all([bobPeer.started, impostor.started]);
    await eventually(() => bobPeer.logger.warnings.some((warning) => warning.startsWith('refused the connection')));
    expect(bobPeer.node.sync.peerStatus()).to.have.length(0);

    const alicePeer = start(alice.newNodeId(), alice);
    alicePeer.model.createElection({ title: 'Real' });
    await alicePeer.started;
    await eventually(() => bobPeer.model.version.toJSON()[alicePeer.node.nodeId] !== undefined);
    expect(bobPeer.node.sync.peerStatus().map((peer) => peer.peerId)).to.deep.equal([alicePeer.node.nodeId]);
    expect(bobPeer.model.version.toJSON()[impostor.node.nodeId]).to.equal(undefined);
  });
});

describe('auth frames', () => {
  it('round-trip, and copy their bytes', () => {
    const hello: AuthHello = { t: 'auth-hello', v: AUTH_VERSION, node: asNodeId('node-1'), publicKey: randomBytes(32), nonce: randomBytes(32) };
    const bytes = encodeAuthFrame(hello);
    expect(bytes[0]).to.equal(0xff);
    const decoded = decodeAuthFrame(bytes) as AuthHello;
    expect(decoded.node).to.equal('node-1');
    expectSameBytes(decoded.publicKey, hello.publicKey, 'public key');
    expectSameBytes(decoded.nonce, hello.nonce, 'nonce');
    bytes.fill(0);
    expectSameBytes(decoded.nonce, hello.nonce);
  });

  it('give both sides the same transcript, which differs by signer', () => {
    const a: AuthHello = { t: 'auth-hello', v: AUTH_VERSION, node: asNodeId('a'), publicKey: randomBytes(32), nonce: randomBytes(32) };
    const b: AuthHello = { t: 'auth-hello', v: AUTH_VERSION, node: asNodeId('b'), publicKey: randomBytes(32), nonce: randomBytes(32) };
    expectSameBytes(authTranscript(a, b, a.node), authTranscript(b, a, a.node));
    expect(authTranscript(a, b, a.node)).to.not.deep.equal(authTranscript(a, b, b.node));
    expect(authTranscript(a, b, a.node)).to.not.deep.equal(authTranscript(a, b, a.node, Uint8Array.of(1)));
  });
});
