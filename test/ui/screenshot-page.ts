// A page showing every view with sample data, for `screenshots.js` (not a test).
import type { NodeId } from '../../src/crdt/index.js';
import '../../src/ui/index.js';
import { themeTokens } from '../../src/ui/shared/theme.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { library, sync as syncLibrary } from '../domain/library-schema.js';
import { electoral, sync } from '../models/electoral/electoral-fixture.js';

document.adoptedStyleSheets = [...document.adoptedStyleSheets, themeTokens.styleSheet!];

function electionDemo() {
  const aliceClock = fakeClock(Date.UTC(2024, 4, 1, 8));
  const bobClock = fakeClock(Date.UTC(2024, 4, 1, 8));
  const alice = electoral('alice', aliceClock);
  const bob = electoral('bob', bobClock);
  const election = alice.createElection({ title: 'Student council 2024', description: 'One seat, first past the post.', opensAt: '2024-05-01', closesAt: '2024-05-03' }).oid;
  const candidates = [
    alice.addCandidate(election, { name: 'Amara Okafor', party: 'Green Campus', statement: 'Solar panels on every roof.' }).oid,
    alice.addCandidate(election, { name: 'Bruno Keller', party: 'Students First' }).oid,
    alice.addCandidate(election, { name: 'Chen Wei', statement: 'Longer library hours.' }).oid,
  ];
  const names = ['Vera Novak', 'Walt Smith', 'Xiu Li', 'Yusuf Demir', 'Zoe Martin', 'Ines Costa', 'Omar Haddad', 'Lena Berg'];
  const voters = names.map((name, i) => {
    const voter = alice.registerVoter({ name, voterNumber: `V-${100 + i}`, district: i % 2 ? 'North' : 'South' }).oid;
    if (i < 7) alice.registerForElection(voter, election);
    return voter;
  });
  alice.openElection(election);
  sync(alice, bob);
  const votes = [0, 1, 0, 2, 0, 1];
  votes.forEach((candidate, i) => {
    aliceClock.advance(60_000);
    alice.castBallot({ voterId: voters[i]!, electionId: election, candidateId: candidates[candidate]! });
  });
  // A second device accepted a ballot from a voter who had already voted: it is superseded.
  bobClock.advance(30 * 60_000);
  bob.castBallot({ voterId: voters[0]!, electionId: election, candidateId: candidates[1]! });
  aliceClock.advance(30 * 60_000);
  sync(bob, alice);
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
};

const view = document.createElement('ednet-elections-view');
view.model = elections;
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
