import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { MemberRoster } from '../../src/overlay/member-roster.js';
import {
  MAX_OVERLAY_FRAME_BYTES,
  OVERLAY_FRAME_BYTE,
  decodeOverlayMessage,
  encodeOverlayMessage,
  isOverlayDecodeError,
  type OverlayMessage,
  type RouteMessage,
} from '../../src/overlay/overlay-message.js';
import { OverlayMux } from '../../src/overlay/overlay-mux.js';
import { OverlayRouter } from '../../src/overlay/overlay-router.js';

const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(asNodeId) as [ReturnType<typeof asNodeId>, ReturnType<typeof asNodeId>, ReturnType<typeof asNodeId>, ReturnType<typeof asNodeId>];

function frame(json: unknown): Uint8Array {
  const text = new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json));
  return new Uint8Array([OVERLAY_FRAME_BYTE, ...text]);
}

describe('Overlay messages', () => {
  const messages: OverlayMessage[] = [
    { t: 'join' },
    { t: 'forward-join', peer: alice, ttl: 6, trail: [bob, carol] },
    { t: 'neighbor', priority: 'low', reply: true },
    { t: 'disconnect', alive: false },
    { t: 'shuffle', origin: alice, nodes: [alice, bob], ttl: 3, trail: [alice] },
    { t: 'roster', entries: [{ id: alice, beat: 3, digest: 'abc', left: false }, { id: bob, beat: 9, digest: '', left: true }] },
    { t: 'route', id: 'r-1', from: alice, to: dave, ttl: 2, path: [bob], trail: [alice], body: { t: 'signal', data: { sealed: 'box' } } },
    { t: 'route', id: 'r-2', from: alice, to: dave, ttl: 0, path: [], trail: [alice, bob], body: { t: 'shuffle-reply', nodes: [carol] } },
  ];

  it('round-trips every message type', () => {
    for (const message of messages) expect(decodeOverlayMessage(encodeOverlayMessage(message))).to.deep.equal(message);
  });

  it('refuses hostile frames with a reason and never throws', () => {
    const bad: Array<[Uint8Array, string]> = [
      [new Uint8Array([0x7b, 0x7d]), 'not an overlay frame'],
      [new Uint8Array([OVERLAY_FRAME_BYTE, 0xff, 0xfe]), 'not UTF-8 JSON'],
      [frame('[1,2]'), 'not a JSON object'],
      [frame({ v: 2, t: 'join' }), 'overlay version'],
      [frame({ v: 1, t: 'teleport' }), 'unknown overlay message type'],
      [frame({ v: 1, t: 'forward-join', peer: 'a b', ttl: 1, trail: [] }), 'forward-join'],
      [frame({ v: 1, t: 'forward-join', peer: 'a', ttl: 1_000, trail: [] }), 'forward-join'],
      [frame({ v: 1, t: 'shuffle', origin: 'a', nodes: Array(33).fill('x'), ttl: 1, trail: [] }), 'shuffle'],
      [frame({ v: 1, t: 'neighbor', priority: 'urgent', reply: false }), 'neighbor'],
      [frame({ v: 1, t: 'roster', entries: [['a', -1, '', 0]] }), 'roster'],
      [frame({ v: 1, t: 'roster', entries: [['a', 1, 'x'.repeat(65), 0]] }), 'roster'],
      [frame({ v: 1, t: 'route', id: 'x', from: 'a', to: 'b', ttl: 1, path: [], trail: Array(17).fill('c'), body: { t: 'signal', data: 1 } }), 'route'],
      [frame({ v: 1, t: 'route', id: 'x', from: 'a', to: 'b', ttl: 1, path: [], trail: [], body: { t: 'exec' } }), 'route: bad body'],
      [new Uint8Array(MAX_OVERLAY_FRAME_BYTES + 2).fill(OVERLAY_FRAME_BYTE), 'over'],
    ];
    for (const [bytes, reason] of bad) {
      const result = decodeOverlayMessage(bytes);
      expect(result, reason).to.have.property('error');
      expect((result as { error: string }).error).to.include(reason);
    }
  });
});

describe('MemberRoster', () => {
  it('counts members by heartbeats: reached while they advance, known until forgotten or gone', () => {
    let now = 0;
    const roster = new MemberRoster(alice, () => now, { reachedForMs: 1_000, forgetAfterMs: 5_000 });
    roster.beat('d1');
    expect(roster.merge([{ id: bob, beat: 1, digest: 'd1', left: false }, { id: carol, beat: 4, digest: 'd2', left: false }])).to.have.length(2);
    expect(roster.counts()).to.deep.equal({ known: 3, reached: 3 });
    // An old beat changes nothing (it may arrive late by another way).
    expect(roster.merge([{ id: carol, beat: 3, digest: 'old', left: false }])).to.deep.equal([]);
    expect(roster.digestOf(carol)).to.equal('d2');
    now = 1_500;
    roster.merge([{ id: bob, beat: 2, digest: 'd1', left: false }]);
    expect(roster.counts()).to.deep.equal({ known: 3, reached: 2 });
    expect(roster.reachedMembers()).to.deep.equal([bob]);
    roster.merge([{ id: bob, beat: 3, digest: 'd1', left: true }]);
    expect(roster.counts()).to.deep.equal({ known: 2, reached: 1 });
    now = 6_000;
    roster.prune();
    expect(roster.counts()).to.deep.equal({ known: 1, reached: 1 });
  });

  it('tells members a discovery lists but whose heartbeat never reaches us (another group) from reached ones', () => {
    let now = 0;
    const roster = new MemberRoster(alice, () => now, { reachedForMs: 1_000 });
    roster.heard(bob, false); // listed by the signaling server only
    roster.heard(carol, true); // connected
    expect(roster.counts()).to.deep.equal({ known: 3, reached: 2 });
    now = 500;
    expect(roster.unreached([bob, carol])).to.deep.equal([]); // too early to tell
    now = 1_500;
    roster.heard(bob, false);
    roster.merge([{ id: carol, beat: 5, digest: '', left: false }]);
    expect(roster.unreached([bob, carol])).to.deep.equal([bob]);
  });

  it('outruns an older beat of its own, and gossips only what changed since', () => {
    let now = 10;
    const roster = new MemberRoster(alice, () => now);
    roster.merge([{ id: alice, beat: 7, digest: "x", left: true }]);
    expect(roster.beat('y')).to.deep.equal({ id: alice, beat: 9, digest: 'y', left: false });
    roster.merge([{ id: bob, beat: 1, digest: '', left: false }]);
    now = 20;
    roster.merge([{ id: carol, beat: 1, digest: '', left: false }]);
    expect(roster.entries(10).map((entry) => entry.id)).to.deep.equal([alice, carol]);
    expect(roster.entries().map((entry) => entry.id)).to.deep.equal([alice, bob, carol]);
  });
});

describe('OverlayRouter', () => {
  const route = (over: Partial<RouteMessage>): RouteMessage => ({ t: 'route', id: 'm1', from: alice, to: dave, ttl: 2, path: [], trail: [alice], body: { t: 'signal', data: null }, ...over });

  it('learns routes back along the trail, and forwards along them', () => {
    const router = new OverlayRouter(carol, () => 0);
    // alice → bob → carol: carol learns bob is a neighbor and alice is behind bob.
    const decision = router.receive(route({ to: carol, trail: [alice, bob] }), bob, () => true, [bob]);
    expect(decision).to.deep.equal({ kind: 'deliver' });
    expect(router.routeTo(alice)).to.deep.equal([bob]);
    const out = router.originate(route({ id: 'm2', from: carol, to: alice, trail: [carol] }), (peer) => peer === bob, [bob]);
    expect(out.kind).to.equal('forward');
    expect(out.kind === 'forward' && out.to).to.deep.equal([bob]);
  });

  it('floods with a bounded TTL when no route is known, once per message, and never back along the trail', () => {
    const router = new OverlayRouter(bob, () => 0);
    const first = router.receive(route({ trail: [alice] }), alice, (peer) => peer !== dave, [alice, carol, dave]);
    expect(first.kind === 'forward' && first.to).to.deep.equal([carol, dave]);
    expect(first.kind === 'forward' && first.message.ttl).to.equal(1);
    expect(router.receive(route({ trail: [alice] }), alice, () => true, [alice, carol])).to.deep.equal({ kind: 'drop', reason: 'duplicate' });
    expect(router.receive(route({ id: 'm3', ttl: 0 }), alice, () => false, [alice, carol]).kind).to.equal('drop');
    expect(router.receive(route({ id: 'm4', from: carol, trail: [alice] }), alice, () => false, [carol]).kind).to.equal('drop');
  });

  it('forgets routes after their time', () => {
    let now = 0;
    const router = new OverlayRouter(carol, () => now, { routeTtlMs: 100 });
    router.learn([alice, bob]);
    expect(router.routeTo(alice)).to.deep.equal([bob]);
    now = 100;
    expect(router.routeTo(alice)).to.equal(undefined);
  });
});

describe('OverlayMux', () => {
  it('gives overlay frames to the overlay and everything else, in order, to the sync side', async () => {
    const network = new MemoryNetwork();
    const a = new MemoryTransport(network, alice);
    const b = new MemoryTransport(network, bob);
    const incoming = new Promise<import('../../src/net/transport.js').PeerConnection>((resolve) => b.onConnection(resolve));
    const outgoing = await a.connect(bob);
    const overlayFrames: OverlayMessage[] = [];
    const mux = new OverlayMux(await incoming, (bytes) => {
      const message = decodeOverlayMessage(bytes);
      if (!isOverlayDecodeError(message)) overlayFrames.push(message);
    });
    const sync: string[] = [];
    await outgoing.send(new TextEncoder().encode('{"t":"hello"}'));
    await outgoing.send(encodeOverlayMessage({ t: 'join' }));
    await outgoing.send(new TextEncoder().encode('{"t":"ack"}'));
    const done = new Promise<void>((resolve) =>
      mux.syncSide.onMessage((bytes) => {
        sync.push(new TextDecoder().decode(bytes));
        if (sync.length === 2) resolve();
      }),
    );
    await done;
    expect(sync).to.deep.equal(['{"t":"hello"}', '{"t":"ack"}']);
    expect(overlayFrames).to.deep.equal([{ t: 'join' }]);
    network.close();
  });
});
