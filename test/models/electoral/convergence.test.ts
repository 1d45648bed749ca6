import { expect } from 'chai';
import fc from 'fast-check';
import { VersionVector } from '../../../src/crdt/index.js';
import { type ChangeBatch, ValidationError, decodeChangeBatch, isDecodeError } from '../../../src/domain/index.js';
import { ElectionRoles, type ElectoralSystemModel } from '../../../src/models/electoral/index.js';
import { electoral, nodeOf, sync } from './electoral-fixture.js';

const NODES = ['alice', 'bob', 'carol', 'dave', 'erin'];
// With roles enforced: device node ids, and a second tab of Alice's device (an organiser too).
const DEVICE_NODES = [nodeOf('alice'), nodeOf('bob'), nodeOf('alice', 'tab00002'), nodeOf('carol'), nodeOf('dave')];
const at = fc.nat(4);
const pick = fc.nat(20);
const op = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('election' as const), at, title: fc.constantFrom('Board', 'Budget') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('candidate' as const), at, pick, name: fc.constantFrom('Ann', 'Ben', 'Cy') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('voter' as const), at, number: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('register' as const), at, pick, other: pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('approve' as const), at, pick, other: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unregister' as const), at, pick, other: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('open' as const), at, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), at, pick }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('ballot' as const), at, pick, other: pick, third: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), at, pick, name: fc.constantFrom('X', 'Y', 'Z') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), at, pick, other: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), at, pick }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), at, to: at }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), duplicate: fc.boolean(), drop: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), at, ms: fc.integer({ min: -100, max: 3000 }) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

const oids = (model: ElectoralSystemModel, concept: string) =>
  model
    .entities(concept, { includeDeleted: true })
    .map((e) => e.oid)
    .sort();
const choose = (list: string[], n: number) => (list.length ? list[n % list.length]! : 'none');

function perform(model: ElectoralSystemModel, o: Op): void {
  if (!('pick' in o) && o.kind !== 'election' && o.kind !== 'voter') return;
  const elections = oids(model, 'Election');
  const voters = oids(model, 'Voter');
  const candidates = oids(model, 'Candidate');
  switch (o.kind) {
    case 'election':
      return void model.createElection({ title: o.title });
    case 'candidate':
      return void model.addCandidate(choose(elections, o.pick), { name: o.name });
    case 'voter':
      return void model.registerVoter({ name: 'V', voterNumber: `N-${o.number}` });
    case 'register':
      return model.registerForElection(choose(voters, o.pick), choose(elections, o.other));
    case 'approve':
      return void model.approveVoter(choose(elections, o.other), choose(voters, o.pick));
    case 'unregister':
      return model.unregisterFromElection(choose(voters, o.pick), choose(elections, o.other));
    case 'open':
      return void model.openElection(choose(elections, o.pick));
    case 'close':
      return void model.closeElection(choose(elections, o.pick));
    case 'ballot': {
      // Mostly a candidate standing in the chosen election, sometimes any candidate at all.
      const electionId = choose(elections, o.other);
      const standing = model.get(electionId)?.childOids('candidates') ?? [];
      const candidateId = o.third % 5 && standing.length ? choose(standing, o.third) : choose(candidates, o.third);
      return void model.castBallot({ voterId: choose(voters, o.pick), electionId, candidateId });
    }
    case 'rename':
      return model.update(choose([...elections, ...voters], o.pick), elections.includes(choose([...elections, ...voters], o.pick)) ? { title: o.name } : { name: o.name });
    case 'withdraw':
      return model.removeCandidate(choose(elections, o.pick), choose(candidates, o.other));
    case 'delete':
      return void model.delete(choose([...voters, ...candidates, ...oids(model, 'Ballot')], o.pick));
    case 'restore':
      return void model.restore(choose([...voters, ...candidates, ...oids(model, 'Ballot')], o.pick));
  }
}

// What a peer sends: a delta, through JSON and the untrusted-input decoder.
function wire(batch: ChangeBatch): ChangeBatch {
  const decoded = decodeChangeBatch(JSON.parse(JSON.stringify(batch)));
  if (isDecodeError(decoded)) throw new Error(decoded.error);
  return decoded;
}

// Every run starts from two elections (one open) with candidates and registered voters, known to all.
function setUp(replicas: readonly ElectoralSystemModel[]): void {
  const first = replicas[0]!;
  const voters = [1, 2, 3, 4].map((n) => first.registerVoter({ name: `Voter ${n}`, voterNumber: `V-${n}` }));
  for (const title of ['Board', 'Budget']) {
    const election = first.createElection({ title });
    for (const name of ['Ann', 'Ben']) first.addCandidate(election.oid, { name });
    for (const voter of voters) first.registerForElection(voter.oid, election.oid);
    if (first.roles === ElectionRoles.enforced) for (const voter of voters) first.approveVoter(election.oid, voter.oid);
    if (title === 'Board') first.openElection(election.oid);
  }
  for (const other of replicas.slice(1)) sync(first, other);
}

const tallies = (model: ElectoralSystemModel) =>
  model
    .elections()
    .map((e) => e.oid)
    .sort()
    .map((id) => model.tally(id));
const canonical = (model: ElectoralSystemModel) => JSON.stringify(model.getSnapshot());

for (const roles of [ElectionRoles.open, ElectionRoles.enforced])
  describe(`ElectoralSystemModel (roles ${roles}): 3–5 replicas with random operations and unreliable delivery`, () => {
    // With roles enforced, operations a device may not do throw locally, so no peer ever refuses a change.
    it('converge to identical snapshots and tallies; merges are idempotent; snapshots round-trip', function () {
      // A fixed amount of seeded work; on a busy machine it may take longer than the default.
      this.timeout(120_000);
      const nodes = roles === ElectionRoles.open ? NODES : DEVICE_NODES;
      fc.assert(
        fc.property(fc.integer({ min: 3, max: 5 }), fc.array(op, { minLength: 10, maxLength: 70 }), (count, ops) => {
          const walls = NODES.slice(0, count).map((_, i) => ({ t: Date.parse('2024-05-01T08:00:00Z') + i * 13 }));
          const replicas = walls.map((wall, i) => {
            const clock = { now: () => wall.t, advance: (ms: number) => (wall.t += ms), set: (ms: number) => (wall.t = ms) };
            return electoral(nodes[i]!, clock, roles);
          });
          setUp(replicas);
          const inFlight: Array<{ to: number; batch: ChangeBatch }> = [];
          for (const o of ops) {
            if (o.kind === 'send') {
              const [from, to] = [replicas[o.at % count]!, o.to % count];
              inFlight.push({ to, batch: wire(from.getDelta(replicas[to]!.version)) });
            } else if (o.kind === 'deliver') {
              if (!inFlight.length) continue;
              const index = o.pick % inFlight.length;
              const { to, batch } = inFlight[index]!;
              if (!o.duplicate) inFlight.splice(index, 1);
              if (o.drop) continue;
              const result = replicas[to]!.applyChanges(batch);
              expect(result.rejected).to.deep.equal([]);
            } else if (o.kind === 'tick') {
              walls[o.at % count]!.t += o.ms;
            } else {
              try {
                perform(replicas[o.at % count]!, o);
              } catch (error) {
                if (!(error instanceof ValidationError)) throw error;
              }
            }
          }
          // Drops are repaired by a full exchange, as the sync engine's anti-entropy does.
          for (let round = 0; round < 2; round++) for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to);
          const snapshot = canonical(replicas[0]!);
          const tally = JSON.stringify(tallies(replicas[0]!));
          for (const replica of replicas) {
            expect(canonical(replica)).to.equal(snapshot);
            expect(JSON.stringify(tallies(replica))).to.equal(tally);
            expect(replica.conflicts).to.deep.equal(replicas[0]!.conflicts);
            expect(replica.digest()).to.deep.equal(replicas[0]!.digest());
          }
          // Idempotent: everything again, as a full delta, changes nothing.
          const again = replicas[0]!.applyChanges(wire(replicas[1]!.getDelta(new VersionVector())));
          expect(again.applied).to.equal(0);
          expect(canonical(replicas[0]!)).to.equal(snapshot);
          // A snapshot brings a fresh replica to the same state.
          const latest = Math.max(...walls.map((w) => w.t));
          const fresh = electoral(roles === ElectionRoles.open ? 'frank' : nodeOf('frank'), { now: () => latest, advance: () => undefined, set: () => undefined }, roles);
          expect(fresh.initializeFromSnapshot(JSON.parse(snapshot)), 'initializeFromSnapshot took the snapshot').to.equal(true);
          expect(canonical(fresh)).to.equal(snapshot);
          expect(JSON.stringify(tallies(fresh))).to.equal(tally);
          expect(fresh.digest()).to.deep.equal(replicas[0]!.digest());
        }),
        { numRuns: 80 },
      );
    });
  });
