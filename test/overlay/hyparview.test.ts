import { expect } from 'chai';
import { asNodeId, type NodeId } from '../../src/crdt/dot.js';
import { HyParView, type HyParViewConfig } from '../../src/overlay/hyparview.js';
import type { OverlayMessage } from '../../src/overlay/overlay-message.js';
import { seededRandom } from '../node/overlay-room.js';
import { expectSome, expectNone } from '../expectations.js';

type Sent = { from: NodeId; to: NodeId; message: OverlayMessage };

/**
 * A simulated room of pure HyParView instances: messages are queued and delivered in order, a
 * connection exists between two nodes while either has sent to the other and neither closed it,
 * and `crash` makes a node vanish (its peers see their connections close).
 */
class Simulation {
  readonly nodes = new Map<NodeId, HyParView>();
  readonly queue: Sent[] = [];
  readonly crashed = new Set<NodeId>();
  readonly failures: Array<() => void> = [];
  now = 0;
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly config: Partial<HyParViewConfig> = {},
  ) {
    this.random = seededRandom(seed);
  }

  add(name: string): HyParView {
    const me = asNodeId(name);
    const node: HyParView = new HyParView(
      me,
      {
        send: (to, message) => {
          // A crashed node's connection fails: the sender hears it in turn, like any message.
          if (this.crashed.has(to)) this.failures.push(() => node.connectFailed(to));
          else this.queue.push({ from: me, to, message });
        },
        shuffleReply: (origin, _trail, nodes) => this.queue.push({ from: me, to: origin, message: { t: 'route', id: 'x', from: me, to: origin, ttl: 0, path: [], trail: [], body: { t: 'shuffle-reply', nodes } } }),
        disconnect: () => undefined,
        neighborUp: () => undefined,
        neighborDown: () => undefined,
      },
      this.random,
      () => this.now,
      this.config,
    );
    this.nodes.set(me, node);
    return node;
  }

  /** Delivers queued messages until none are left (bounded, so a ping-pong fails the test). */
  run(limit = 100_000): number {
    let delivered = 0;
    while (this.queue.length > 0 || this.failures.length > 0) {
      if (++delivered > limit) throw new Error('messages kept flowing');
      if (this.queue.length === 0) {
        this.failures.shift()!();
        continue;
      }
      const { from, to, message } = this.queue.shift()!;
      const node = this.nodes.get(to);
      if (!node || this.crashed.has(to)) continue;
      if (message.t === 'route' && message.body.t === 'shuffle-reply') node.receiveShuffleReply(message.body.nodes);
      else node.receive(from, message);
    }
    return delivered;
  }

  crash(name: string): void {
    const id = asNodeId(name);
    this.crashed.add(id);
    for (const [peer, node] of this.nodes) if (!this.crashed.has(peer) && node.isActive(id)) node.connectionClosed(id);
  }

  live(): HyParView[] {
    return [...this.nodes.values()].filter((node) => !this.crashed.has(node.me));
  }

  /** Live nodes the first one cannot reach over edges both ends agree on (none: one connected overlay). */
  unreached(): NodeId[] {
    const live = this.live();
    const seen = new Set<NodeId>([live[0]!.me]);
    const queue = [live[0]!];
    while (queue.length > 0) {
      const node = queue.pop()!;
      for (const peer of node.activeView) {
        const other = this.nodes.get(peer)!;
        if (seen.has(peer) || this.crashed.has(peer) || !other.isActive(node.me)) continue;
        seen.add(peer);
        queue.push(other);
      }
    }
    return live.map((node) => node.me).filter((id) => !seen.has(id));
  }

  /** Active links only one end holds, as `from -> to` (none: every link is symmetric). */
  oneSidedLinks(): string[] {
    return this.live().flatMap((node) =>
      node.activeView.filter((peer) => !this.crashed.has(peer) && !this.nodes.get(peer)!.isActive(node.me)).map((peer) => `${node.me} -> ${peer}`),
    );
  }
}

describe('HyParView', () => {
  it('a join gives both sides a neighbor, and the contact introduces the newcomer to its neighbors', () => {
    const sim = new Simulation(1);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => sim.add(name));
    b!.join(a!.me);
    sim.run();
    expect(a!.activeView).to.deep.equal([b!.me]);
    expect(b!.activeView).to.deep.equal([a!.me]);
    c!.join(a!.me);
    sim.run();
    // a's only other neighbor ends the walk at once (an active view of one) and takes c too.
    expect([...c!.activeView].sort()).to.deep.equal([a!.me, b!.me]);
    expect(sim.oneSidedLinks(), 'one-sided active links').to.deep.equal([]);
  });

  for (const size of [50, 200]) {
    it(`${size} nodes joining one by one form one connected overlay with bounded, symmetric views`, () => {
      const sim = new Simulation(size, { activeViewSize: 5 });
      const nodes = Array.from({ length: size }, (_, i) => sim.add(`n${i}`));
      for (let i = 1; i < size; i++) {
        nodes[i]!.join(nodes[Math.floor(i * 0.37)]!.me);
        sim.run();
      }
      for (const node of nodes) {
        node.fill();
        node.shuffle();
      }
      sim.run();
      expect(sim.unreached(), 'nodes cut off from the overlay').to.deep.equal([]);
      expect(sim.oneSidedLinks(), 'one-sided active links').to.deep.equal([]);
      for (const node of nodes) expect(node.activeView.length).to.be.within(1, 5);
    });
  }

  it('replaces crashed neighbors from the passive view and stays connected when a quarter crash', () => {
    const sim = new Simulation(7, { activeViewSize: 5 });
    const nodes = Array.from({ length: 80 }, (_, i) => sim.add(`n${i}`));
    for (let i = 1; i < nodes.length; i++) {
      nodes[i]!.join(nodes[i - 1]!.me);
      sim.run();
    }
    for (let round = 0; round < 5; round++) {
      for (const node of nodes) node.shuffle();
      sim.run();
    }
    for (let i = 0; i < nodes.length; i += 4) sim.crash(`n${i}`);
    sim.run();
    for (let round = 0; round < 3; round++) {
      sim.now += 60_000;
      for (const node of sim.live()) node.tick();
      sim.run();
    }
    expect(sim.unreached(), 'nodes cut off from the overlay').to.deep.equal([]);
    for (const node of sim.live()) {
      expectNone(node.activeView, (peer) => sim.crashed.has(peer));
      expect(node.activeView.length).to.be.at.least(2);
    }
  });

  it('a high-priority NEIGHBOR is always accepted, a low one only with a free slot', () => {
    const sim = new Simulation(3, { activeViewSize: 1 });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => sim.add(name));
    b!.join(a!.me);
    sim.run();
    a!.receive(c!.me, { t: 'neighbor', priority: 'low', reply: false });
    expect(a!.activeView).to.deep.equal([b!.me]);
    expectSome(sim.queue, (sent) => sent.to === c!.me && sent.message.t === 'disconnect');
    sim.queue.length = 0;
    a!.receive(c!.me, { t: 'neighbor', priority: 'high', reply: false });
    expect(a!.activeView).to.deep.equal([c!.me]);
    // b was dropped to make room: it is told, and kept as a passive member.
    expectSome(sim.queue, (sent) => sent.to === b!.me && sent.message.t === 'disconnect');
    expect(a!.passiveView).to.include(b!.me);
  });

  it('a NEIGHBOR request that is never answered fails after the timeout and the peer leaves the passive view', () => {
    const sim = new Simulation(4);
    const a = sim.add('a');
    a.learn(asNodeId('ghost'));
    a.fill();
    expect(a.wants(asNodeId('ghost')), 'still wants the unanswered member').to.equal(true);
    sim.now += 19_999;
    a.tick();
    expect(a.wants(asNodeId('ghost')), 'still wants the member 1 ms before giving up').to.equal(true);
    sim.now += 1;
    a.tick();
    expect(a.wants(asNodeId('ghost')), 'wants the member after giving up').to.equal(false);
    expect(a.passiveView).to.deep.equal([]);
  });

  it('a DISCONNECT from a departing peer forgets it; from a live one keeps it as passive', () => {
    const sim = new Simulation(5);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => sim.add(name));
    b!.join(a!.me);
    c!.join(a!.me);
    sim.run();
    a!.receive(b!.me, { t: 'disconnect', alive: true });
    expect(a!.passiveView).to.include(b!.me);
    a!.receive(c!.me, { t: 'disconnect', alive: false });
    expect(a!.passiveView).not.to.include(c!.me);
    expect(a!.activeView).not.to.include(c!.me);
  });

  it('refuses bad configuration', () => {
    const io = { send: () => undefined, shuffleReply: () => undefined, disconnect: () => undefined, neighborUp: () => undefined, neighborDown: () => undefined };
    expect(() => new HyParView(asNodeId('a'), io, Math.random, Date.now, { activeViewSize: 0 })).to.throw(RangeError);
    expect(() => new HyParView(asNodeId('a'), io, Math.random, Date.now, { passiveRandomWalkLength: 7, activeRandomWalkLength: 6 })).to.throw(RangeError);
  });
});
