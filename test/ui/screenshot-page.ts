// A page showing every view with sample data, for `screenshots.js` (not a test).
import type { NodeId } from '../../src/crdt/index.js';
import '../../src/ui/index.js';
import { themeTokens } from '../../src/ui/shared/theme.js';
import { ownedOid } from '../../src/domain/index.js';
import { ElectionRoles, ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { library, sync as syncLibrary } from '../domain/library-schema.js';
import { electoral, nodeOf, sync } from '../models/electoral/electoral-fixture.js';

document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet!];

/** A replica that keeps no election rules but makes owned oids, as a hostile peer could. */
class Lawless extends ElectoralSystemModel {
  protected override newOid(): string {
    return ownedOid(this.nodeId);
  }
}

function electionDemo() {
  // Election roles as a room enforces them: Alice's device organises; each voter registers on their own device.
  const clock = fakeClock(Date.UTC(2024, 4, 1, 8));
  const alice = electoral(nodeOf('alice'), clock, ElectionRoles.enforced);
  const election = alice.createElection({ title: 'Student council 2024', description: 'One seat, first past the post.', opensAt: '2024-05-01', closesAt: '2024-05-03' }).oid;
  const candidates = [
    alice.addCandidate(election, { name: 'Amara Okafor', party: 'Green Campus', statement: 'Solar panels on every roof.' }).oid,
    alice.addCandidate(election, { name: 'Bruno Keller', party: 'Students First' }).oid,
    alice.addCandidate(election, { name: 'Chen Wei', statement: 'Longer library hours.' }).oid,
  ];
  // Kim's device co-organises: it approves one registration itself.
  alice.addCoOrganiser(election, nodeOf('kim').slice(0, 32));
  const kim = electoral(nodeOf('kim'), clock, ElectionRoles.enforced);
  const names = ['Vera Novak', 'Walt Smith', 'Xiu Li', 'Yusuf Demir', 'Zoe Martin', 'Ines Costa', 'Omar Haddad'];
  const devices = names.map((name, i) => {
    const device = electoral(nodeOf(name.split(' ')[0]!.toLowerCase()), clock, ElectionRoles.enforced);
    sync(alice, device);
    const voter = device.registerVoter({ name, voterNumber: `V-${100 + i}`, district: i % 2 ? 'North' : 'South' }).oid;
    device.registerForElection(voter, election);
    sync(device, alice);
    // One registration still waits for the organisers.
    if (i < 5) alice.approveVoter(election, voter);
    if (i === 5) {
      sync(alice, kim);
      kim.approveVoter(election, voter);
      sync(kim, alice);
    }
    return { device, voter };
  });
  alice.openElection(election);
  const votes = [0, 1, 0, 2];
  votes.forEach((candidate, i) => {
    const { device, voter } = devices[i]!;
    sync(alice, device);
    clock.advance(60_000);
    device.castBallot({ voterId: voter, electionId: election, candidateId: candidates[candidate]! });
    sync(device, alice);
  });
  // A device without the rules casts a ballot for Zoe's voter: it stays in the state, but does not count.
  const mallory = new Lawless({ modelId: 'election-2024', nodeId: nodeOf('mallory'), getNow: clock.now, roles: ElectionRoles.open });
  sync(alice, mallory);
  clock.advance(60_000);
  mallory.castBallot({ voterId: devices[4]!.voter, electionId: election, candidateId: candidates[1]! });
  sync(mallory, alice);
  alice.createElection({ title: 'Club treasurer' });
  return alice;
}

function libraryDemo() {
  const aliceClock = fakeClock();
  const bobClock = fakeClock();
  const alice = library('alice', aliceClock);
  const bob = library('bob', bobClock);
  const ann = alice.create('Author', { name: 'Ann Yonath', email: 'ann@example.org', rating: 4.5, born: '1939-06-22' }).oid;
  const ben = alice.create('Author', { name: 'Ben Okri', email: 'ben@example.org', rating: 4 }).oid;
  const book = alice.create('Book', { title: 'The Famished Road', genre: 'novel', author: ben }).oid;
  alice.addChild(ben, 'works', book);
  alice.create('Author', { name: 'Cora Sandel', rating: 3.5 });
  syncLibrary(alice, bob);
  aliceClock.advance(1_000);
  alice.update(ann, { name: 'Ada Yonath' });
  bobClock.advance(2_000);
  bob.update(ann, { name: 'Ada E. Yonath' });
  aliceClock.advance(3_000);
  alice.delete(ben);
  bobClock.advance(5_000);
  bob.update(ben, { rating: 5 });
  syncLibrary(bob, alice);
  return alice;
}

const elections = electionDemo();
const books = libraryDemo();

const bar = document.createElement('ednet-status-bar');
bar.status = {
  nodeId: 'alice-7f3a9c' as NodeId,
  displayName: 'Alice',
  online: true,
  signaling: 'connected',
  peers: [
    { peerId: 'bob-81d2e0' as NodeId, displayName: 'Bob', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null },
    { peerId: 'carol-5c0b7a' as NodeId, displayName: null, via: 'broadcast-channel', inSync: false, refused: 0, lastRefusal: null },
  ],
  unsentChanges: 3,
  unsavedChanges: 0,
  receiving: { modelId: 'election-2024', peerId: 'carol-5c0b7a' as NodeId, part: 4, parts: 10 },
  persistence: 'granted',
  storageError: null,
  roomKeyProblem: null,
  connectionProblem: null,
};

const view = document.createElement('ednet-elections-view');
view.model = elections;
view.peers = [
  { peerId: nodeOf('kim'), displayName: 'Kim (staff)' },
  { peerId: nodeOf('vera'), displayName: 'Vera' },
];
const explorer = document.createElement('ednet-model-explorer');
explorer.model = books;
const conflicts = document.createElement('ednet-conflicts-panel');
conflicts.model = books;
conflicts.peers = [{ peerId: 'bob' as NodeId, displayName: 'Bob', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null }];

for (const element of [bar, view, explorer, conflicts]) {
  const section = document.createElement('section');
  section.className = 'demo';
  section.append(element);
  document.body.append(section);
}
