import { expect } from 'chai';
import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import type { PeerConnection, Transport } from '../../src/net/transport.js';
import { alice, bob, carol, closed, eventually, inbox, nextConnection, patterned, rejection } from './net-test-helpers.js';
import { expectSameBytes } from '../expectations.js';

/** Per-transport options the contract needs to set. */
export interface ContractTransportOptions {
  readonly connectTimeoutMs?: number;
  readonly maxMessageBytes?: number;
}

/** One transport implementation under test; a fresh fixture per test. */
export interface TransportFixture {
  /** A transport of node `id`; every transport of one fixture can reach the others. */
  transport(id: NodeId, options?: ContractTransportOptions): Transport;
  /** Closes whatever the fixture made. */
  dispose(): void | Promise<void>;
}

/** Everything every `Transport` must do, as one suite; run it with each implementation's fixture. */
export function runTransportContract(name: string, setup: () => TransportFixture, largeMessageBytes = 10 * 1024 * 1024): void {
  describe(`Transport contract: ${name}`, () => {
    let fixture: TransportFixture;
    let a: Transport;
    let b: Transport;
    beforeEach(() => {
      fixture = setup();
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    /** alice and bob, bob accepting; resolves with both ends of a connection alice opened. */
    async function connected(from: 'alice' | 'bob' = 'alice'): Promise<[PeerConnection, PeerConnection]> {
      a = fixture.transport(alice);
      b = fixture.transport(bob);
      const [opener, acceptor] = from === 'alice' ? [a, b] : [b, a];
      const incoming = nextConnection(acceptor);
      const outgoing = await opener.connect(acceptor.localId);
      const other = await incoming;
      return from === 'alice' ? [outgoing, other] : [other, outgoing];
    }

    for (const from of ['alice', 'bob'] as const) {
      it(`connects when ${from} opens: both ends open, naming each other`, async () => {
        const [atAlice, atBob] = await connected(from);
        expect(atAlice.peerId).to.equal(bob);
        expect(atBob.peerId).to.equal(alice);
        expect(atAlice.via).to.equal(a.kind);
        expect(atBob.via).to.equal(b.kind);
        expect(atAlice.state).to.equal('open');
        expect(atBob.state).to.equal('open');
        // Connecting again while open yields the same connection.
        expect(await a.connect(bob)).to.equal(atAlice);
      });
    }

    it('delivers messages whole and in order, both ways, of every size', async () => {
      const [atAlice, atBob] = await connected();
      const toBob = inbox(atBob);
      const toAlice = inbox(atAlice);
      const sizes = [0, 1, 2, 100, 16 * 1024 - 17, 16 * 1024, 16 * 1024 + 1, 70_000, 3, 0, 250_000, 5];
      const sent = sizes.map((size, i) => patterned(size, i));
      await Promise.all([...sent.map((message) => atAlice.send(message)), ...sent.map((message) => atBob.send(message))]);
      await eventually(() => toBob.length === sizes.length && toAlice.length === sizes.length);
      for (let i = 0; i < sizes.length; i++) {
        expectSameBytes(toBob[i]!, sent[i]!, `message ${i} to bob`);
        expectSameBytes(toAlice[i]!, sent[i]!, `message ${i} to alice`);
      }
    });

    it('a sent message is the sender\'s no more: changing the buffer afterwards changes nothing delivered', async () => {
      const [atAlice, atBob] = await connected();
      const toBob = inbox(atBob);
      const message = patterned(40_000, 1);
      const sending = atAlice.send(message);
      message.fill(0);
      await sending;
      await eventually(() => toBob.length === 1);
      expectSameBytes(toBob[0]!, patterned(40_000, 1));
    });

    it(`carries a large message (${largeMessageBytes} bytes) intact, followed by a small one`, async () => {
      const [atAlice, atBob] = await connected();
      const toBob = inbox(atBob);
      const large = patterned(largeMessageBytes, 3);
      await Promise.all([atAlice.send(large), atAlice.send(patterned(10, 4))]);
      await eventually(() => toBob.length === 2);
      expect(toBob[0]!.byteLength).to.equal(largeMessageBytes);
      expectSameBytes(toBob[0]!, large);
      expectSameBytes(toBob[1]!, patterned(10, 4));
    });

    it('keeps messages that arrive before anyone listens', async () => {
      const [atAlice, atBob] = await connected();
      await atAlice.send(patterned(5, 1));
      await atAlice.send(patterned(6, 2));
      // Give the messages time to arrive first (if they arrive later, they simply are not early).
      await new Promise((resolve) => setTimeout(resolve, 100));
      const toBob = inbox(atBob);
      await eventually(() => toBob.length === 2);
      expect(toBob.map((message) => message.byteLength)).to.deep.equal([5, 6]);
    });

    it('a close is seen by both ends, with the reason, and later sends are refused', async () => {
      const [atAlice, atBob] = await connected();
      const bobSees = closed(atBob);
      const aliceSees = closed(atAlice);
      const toBob = inbox(atBob);
      await atAlice.send(patterned(3));
      atAlice.close('done for today');
      expect(await aliceSees).to.equal('done for today');
      expect(await bobSees).to.contain('done for today');
      expect(toBob).to.have.length(1);
      expect(atAlice.state).to.equal('closed');
      expect(atBob.state).to.equal('closed');
      await rejection(atAlice.send(patterned(1)));
      await rejection(atBob.send(patterned(1)));
      // A listener subscribing after the close still hears about it, once.
      expect(await closed(atBob)).to.contain('done for today');
    });

    it('connects again after a close', async () => {
      const [atAlice, atBob] = await connected();
      const bobSees = closed(atBob);
      atAlice.close('once');
      await bobSees;
      const incoming = nextConnection(a);
      const again = await b.connect(alice);
      const atAliceAgain = await incoming;
      expect(again).to.not.equal(atBob);
      const toAlice = inbox(atAliceAgain);
      await again.send(patterned(7));
      await eventually(() => toAlice.length === 1);
      expect(again.state).to.equal('open');
    });

    it('connecting to an absent peer rejects', async () => {
      a = fixture.transport(alice, { connectTimeoutMs: 300 });
      fixture.transport(bob).onConnection(() => undefined);
      await rejection(a.connect(asNodeId('zed')));
      await rejection(a.connect(asNodeId('aaron'))); // a lower id than alice's: the other handshake path
    });

    it('refuses connections while nobody listens for them', async () => {
      a = fixture.transport(alice, { connectTimeoutMs: 2000 });
      b = fixture.transport(bob, { connectTimeoutMs: 2000 });
      await rejection(a.connect(bob));
      await rejection(b.connect(alice));
    });

    it('simultaneous connects (glare) make exactly one connection per side', async () => {
      a = fixture.transport(alice);
      b = fixture.transport(bob);
      const seenByAlice = new Set<PeerConnection>();
      const seenByBob = new Set<PeerConnection>();
      a.onConnection((connection) => seenByAlice.add(connection));
      b.onConnection((connection) => seenByBob.add(connection));
      const [atAlice, atBob] = await Promise.all([a.connect(bob), b.connect(alice)]);
      seenByAlice.add(atAlice);
      seenByBob.add(atBob);
      const toBob = inbox(atBob);
      const toAlice = inbox(atAlice);
      await atAlice.send(patterned(8));
      await atBob.send(patterned(9));
      await eventually(() => toBob.length === 1 && toAlice.length === 1);
      expect(seenByAlice.size).to.equal(1);
      expect(seenByBob.size).to.equal(1);
      expect(atAlice.state).to.equal('open');
      expect(atBob.state).to.equal('open');
    });

    it('closing a transport closes its connections at both ends and refuses new ones', async () => {
      const [atAlice, atBob] = await connected();
      const aliceSees = closed(atAlice);
      const bobSees = closed(atBob);
      a.close();
      expect(await aliceSees).to.equal('transport closed');
      expect(await bobSees).to.contain('transport closed');
      await rejection(a.connect(bob));
    });

    it('refuses bad input and stays usable', async () => {
      a = fixture.transport(alice, { maxMessageBytes: 1000 });
      b = fixture.transport(bob, { maxMessageBytes: 1000 });
      const incoming = nextConnection(b);
      await rejection(a.connect(asNodeId('not a node id!')));
      await rejection(a.connect(alice));
      const atAlice = await a.connect(bob);
      const atBob = await incoming;
      const toBob = inbox(atBob);
      const tooLarge = await rejection(atAlice.send(new Uint8Array(1001)));
      expect(tooLarge).to.be.instanceOf(RangeError);
      await atAlice.send(patterned(1000));
      await eventually(() => toBob.length === 1);
      expect(toBob[0]!.byteLength).to.equal(1000);
      expect(atAlice.state).to.equal('open');
    });

    it('keeps connections to several peers apart', async () => {
      a = fixture.transport(alice);
      b = fixture.transport(bob);
      const c = fixture.transport(carol);
      const atBob = nextConnection(b);
      const atCarol = nextConnection(c);
      const [toBobConnection, toCarolConnection] = await Promise.all([a.connect(bob), a.connect(carol)]);
      const bobInbox = inbox(await atBob);
      const carolInbox = inbox(await atCarol);
      await toBobConnection.send(patterned(11));
      await toCarolConnection.send(patterned(12));
      await eventually(() => bobInbox.length === 1 && carolInbox.length === 1);
      expect(bobInbox[0]!.byteLength).to.equal(11);
      expect(carolInbox[0]!.byteLength).to.equal(12);
      expect((await atBob).peerId).to.equal(alice);
      expect((await atCarol).peerId).to.equal(alice);
    });
  });
}
