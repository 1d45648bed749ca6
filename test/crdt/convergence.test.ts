import { expect } from 'chai';
import fc from 'fast-check';
import { AWSet, HybridLogicalClock, LWWRegister, VersionVector, asNodeId } from '../../src/crdt/index.js';
import type { AWSetState, NodeId, RegisterWrite } from '../../src/crdt/index.js';

/** One replica of a register and a set sharing one causal context. */
class Replica {
  readonly register = new LWWRegister<string>();
  readonly set = new AWSet<string>();
  readonly context = new VersionVector();
  readonly clock: HybridLogicalClock;
  constructor(
    readonly node: NodeId,
    wall: () => number,
  ) {
    this.clock = new HybridLogicalClock({ getNow: wall });
  }
  write(value: string): void {
    const w = { value, ts: this.clock.now(), dot: this.context.increment(this.node) };
    this.register.set(w);
  }
  resolve(value: string): void {
    this.register.resolve({ value, ts: this.clock.now(), dot: this.context.increment(this.node) });
  }
  add(element: string): void {
    if (!this.set.has(element)) this.set.add(element, this.context.increment(this.node));
  }
  remove(element: string): void {
    if (this.set.has(element)) {
      const removed = this.set.remove(element);
      this.set.markRemoval(this.context.increment(this.node), removed);
    }
  }
  message(): Message {
    return { writes: this.register.writes.slice(), set: this.set.clone().toState(), context: this.context.clone() };
  }
  receive(m: Message): void {
    this.register.join(m.writes, this.context, m.context);
    this.set.join(m.set, this.context, m.context);
    this.context.mergeWith(m.context);
    for (const w of m.writes) this.clock.witness(w.ts);
  }
  canonical() {
    return {
      writes: this.register.writes,
      items: [...this.set.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
      marks: this.set.removals(),
      context: this.context.toJSON(),
    };
  }
}
interface Message {
  writes: RegisterWrite<string>[];
  set: AWSetState<string>;
  context: VersionVector;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), at: fc.nat(4), value: fc.constantFrom('p', 'q', 'r', 's') }),
  fc.record({ kind: fc.constant('resolve' as const), at: fc.nat(4), value: fc.constantFrom('p', 'q') }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(4), value: fc.constantFrom('x', 'y', 'z') }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(4), value: fc.constantFrom('x', 'y', 'z') }),
  fc.record({ kind: fc.constant('send' as const), at: fc.nat(4), to: fc.nat(4) }),
  fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean(), drop: fc.boolean() }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: -5, max: 20 }) }),
);

describe('CRDT convergence (3–5 replicas, shuffled, duplicated and dropped delivery)', () => {
  it('all replicas end identical after a final full exchange', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 5 }), fc.array(op, { maxLength: 80 }), (count, ops) => {
        // Each replica has its own wall clock, skewed, and some run backwards: the HLC copes.
        const walls = Array.from({ length: count }, (_, i) => ({ t: 1000 + i * 7 }));
        const replicas = walls.map((w, i) => new Replica(asNodeId(['alice', 'bob', 'carol', 'dave', 'erin'][i]!), () => w.t));
        const inFlight: Array<{ to: number; message: Message }> = [];
        for (const o of ops) {
          switch (o.kind) {
            case 'write':
              replicas[o.at % count]!.write(o.value);
              break;
            case 'resolve':
              replicas[o.at % count]!.resolve(o.value);
              break;
            case 'add':
              replicas[o.at % count]!.add(o.value);
              break;
            case 'remove':
              replicas[o.at % count]!.remove(o.value);
              break;
            case 'send':
              inFlight.push({ to: o.to % count, message: replicas[o.at % count]!.message() });
              break;
            case 'deliver': {
              if (!inFlight.length) break;
              const index = o.pick % inFlight.length;
              const { to, message } = inFlight[index]!;
              if (!o.duplicate) inFlight.splice(index, 1);
              if (!o.drop) replicas[to]!.receive(message);
              break;
            }
            case 'tick':
              for (const w of walls) w.t += o.ms;
              break;
          }
        }
        for (let round = 0; round < 2; round++)
          for (const from of replicas) for (const to of replicas) if (from !== to) to.receive(from.message());
        const first = replicas[0]!.canonical();
        for (const r of replicas) expect(r.canonical()).to.deep.equal(first);
        // Idempotence: receiving everything again changes nothing.
        replicas[0]!.receive(replicas[1]!.message());
        expect(replicas[0]!.canonical()).to.deep.equal(first);
      }),
      { numRuns: 150 },
    );
  });
});
