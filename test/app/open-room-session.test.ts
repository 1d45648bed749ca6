import { expect } from 'chai';
import { openDB } from 'idb';
import { ELECTORAL_MODEL_ID, createOwnedRoom, openRoomSession } from '../../src/app/open-room-session.js';
import { generateRoomSecret } from '../../src/security/index.js';
import { IndexedDbStorageAdapter } from '../../src/store/index.js';
import '../../src/ui/audit/ednet-audit-view.js';
import '../../src/ui/ednet-status-bar.js';
import { putRawEntity } from '../store/put-raw-entity.js';
import { deleteTestDb, uniqueDbName } from '../store/unique-db-name.js';
import { mount, unmountAll } from '../ui/ui-test-helpers.js';
import { eventually } from '../eventually.js';

describe('openRoomSession with damaged storage', () => {
  let dbName: string;
  let secret: string;
  beforeEach(() => {
    dbName = uniqueDbName();
    secret = generateRoomSecret();
  });
  afterEach(async () => {
    unmountAll();
    await deleteTestDb(dbName);
  });

  const open = () =>
    openRoomSession(
      { roomId: `quarantine-${dbName.slice(-6)}`, secret },
      { storage: new IndexedDbStorageAdapter({ roomId: 'r', dbName }), signalingUrl: null, localTabs: true, displayName: null },
    );

  it('opens the room, shows every damaged record in the status bar and the Audit tab, and keeps them aside', async () => {
    const first = await open();
    const nodeId = first.node.nodeId;
    const election = first.model.createElection({ title: 'Board' });
    const kept = first.model.createElection({ title: 'Treasurer' });
    await first.close();

    // An entity stored as null, a damaged reservation and damaged metadata: each used to keep the
    // room from opening ("The room could not be opened").
    await putRawEntity(dbName, ELECTORAL_MODEL_ID, election.oid, null);
    const db = await openDB(dbName);
    await db.put('identities', { nodeId, reservedUpTo: null, lastClaimedAt: Date.now() });
    await db.put('meta', 'garbage', 'room');
    db.close();

    const session = await open();
    try {
      expect(session.node.nodeId).to.equal(nodeId);
      expect(session.model.get(election.oid)).to.equal(undefined);
      expect(session.model.get(kept.oid)?.getAttribute('title')).to.equal('Treasurer');
      // Found before any view subscribed: kept as state, so views that mount later still show them.
      await eventually(() => (session.status.storageProblems?.length ?? 0) === 3);
      expect(session.status.storageProblems!.map((problem) => problem.kind).sort()).to.deep.equal(['entity', 'metadata', 'reservation']);

      const bar = await mount('ednet-status-bar', { status: session.status });
      expect(bar.shadowRoot!.querySelector('.storage-problems')?.textContent?.replace(/\s+/g, ' ')).to.match(/3 damaged stored records set aside/);
      const audit = await mount('ednet-audit-view', { model: session.model, node: session.node });
      const section = audit.shadowRoot!.querySelector('[aria-labelledby="storage-heading"]');
      expect(section?.textContent?.replace(/\s+/g, ' ')).to.match(/Damaged storage \(3\)/);
      expect(section?.querySelectorAll('li')).to.have.length(3);
      expect(section?.textContent).to.include(`entity ${election.oid}`);

      const storage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
      expect((await storage.quarantined()).map((record) => record.kind).sort()).to.deep.equal(['entity', 'metadata', 'reservation']);
      storage.close();
    } finally {
      await session.close();
    }
  });
});

describe('openRoomSession: whether this device holds the room', () => {
  const dbNames: string[] = [];
  afterEach(async () => {
    for (const name of dbNames.splice(0)) await deleteTestDb(name);
  });

  /** A session of `roomId` on storage `dbName`, reaching only tabs of this browser. */
  const open = (roomId: string, secret: string, dbName: string) =>
    openRoomSession({ roomId, secret }, { storage: new IndexedDbStorageAdapter({ roomId, dbName }), signalingUrl: null, iceServersUrl: null, localTabs: true, displayName: null });

  it('a room created here is held at once', async () => {
    const dbName = uniqueDbName();
    dbNames.push(dbName);
    const room = await createOwnedRoom();
    const session = await open(room.roomId, room.secret, dbName);
    try {
      expect(session.held, 'a room created here is held').to.equal(true);
    } finally {
      await session.close();
    }
  });

  it('a room opened from a link is held from its first peer on, and still after reopening alone', async () => {
    const [first, second] = [uniqueDbName(), uniqueDbName()];
    dbNames.push(first, second);
    const roomId = `held-${first.slice(-6)}`;
    const secret = generateRoomSecret();
    const alone = await open(roomId, secret, first);
    expect(alone.held, 'a room opened from a link, alone, is held').to.equal(false);
    // Its own edits (its name in the room) do not make it hold the room.
    alone.setDisplayName('Bruno');
    await alone.close();
    const arriving = await open(roomId, secret, first);
    expect(arriving.model.version.toJSON(), 'the version stored with its own edits').to.not.deep.equal({});
    expect(arriving.held, 'a room with only its own edits is held').to.equal(false);
    const member = await open(roomId, secret, second);
    await eventually(() => arriving.held === true && arriving.status.peers.length === 1);
    await member.close();
    await arriving.close();

    const again = await open(roomId, secret, first);
    try {
      expect(again.status.peers).to.deep.equal([]);
      expect(again.held, 'a room held once is held after reopening alone').to.equal(true);
    } finally {
      await again.close();
    }
  });
});
