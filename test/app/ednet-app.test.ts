import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import '../../src/app/ednet-app.js';
import type { EDNetApp } from '../../src/app/ednet-app.js';
import { DisplayNameStore } from '../../src/app/display-name-store.js';
import { RECENT_ROOMS_KEY, RecentRooms, type KeyValueStorage } from '../../src/app/recent-rooms.js';
import { roomLink } from '../../src/app/room-link.js';
import type { RoomRef, RoomSession } from '../../src/app/room-session.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import { eventually as until } from '../eventually.js';
import { expectNone } from '../expectations.js';
import { nodeStatus } from '../node-status.js';

const secret = 'aGVsbG8td29ybGQtMTIzNDU2Nzg5MA';

/** A session that records what the app asks of it. */
function fakeSession(room: RoomRef, log: string[]): RoomSession {
  const nodeId = 'alice' as NodeId;
  const status = nodeStatus({ nodeId, displayName: null });
  return {
    room,
    node: { nodeId } as unknown as EDNetP2PNode,
    model: new ElectoralSystemModel({ modelId: 'electoral', nodeId, roles: 'open' }),
    status,
    onStatus: () => () => {},
    setDisplayName: (name) => log.push(`name ${room.roomId} ${name}`),
    setWorkOffline: (offline) => log.push(`offline ${room.roomId} ${offline}`),
    exportRoom: async () => new Blob(['{}']),
    importRoom: async () => ({ ok: true, value: [] }),
    close: async () => void log.push(`close ${room.roomId}`),
  };
}

function memoryStorage(): KeyValueStorage {
  const data = new Map<string, string>();
  return { getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
}

const hashOf = (room: RoomRef) => new URL(roomLink(location.href, room)).hash;
const nextHashChange = () => new Promise((resolve) => window.addEventListener('hashchange', resolve, { once: true }));

describe('ednet-app', () => {
  let app: EDNetApp;
  let log: string[];
  let opened: RoomRef[];
  let storage: KeyValueStorage;

  beforeEach(async () => {
    history.replaceState(null, '', '#/');
    log = [];
    opened = [];
    app = document.createElement('ednet-app');
    storage = memoryStorage();
    app.recentRooms = new RecentRooms(storage);
    app.displayNames = new DisplayNameStore(memoryStorage());
    app.openSession = async (room) => {
      opened.push(room);
      log.push(`open ${room.roomId}`);
      return fakeSession(room, log);
    };
    document.body.append(app);
    await app.updateComplete;
  });

  afterEach(() => {
    app.remove();
    history.replaceState(null, '', '#/');
  });

  it('creates a room from the landing page and opens it from the link it puts in the fragment', async () => {
    const landing = app.shadowRoot!.querySelector('ednet-landing-page')!;
    await landing.updateComplete;
    landing.shadowRoot!.querySelector<HTMLInputElement>('#room-name')!.value = 'Board vote';
    const changed = nextHashChange();
    landing.shadowRoot!.querySelector<HTMLButtonElement>('form button[type="submit"]')!.click();
    await changed;
    await until(() => app.session !== null);
    const room = opened[0]!;
    expect(location.hash).to.equal(hashOf(room));
    expect(app.recentRooms.get(room.roomId)?.name).to.equal('Board vote');
    expect(window.ednet.session).to.equal(app.session);
    expect(window.ednet.model).to.equal(app.session!.model);
    await app.updateComplete;
    const page = app.shadowRoot!.querySelector('ednet-room-page')!;
    expect(page.link).to.equal(roomLink(location.href, room));
    expect(app.shadowRoot!.querySelector('header')!.textContent).to.include('Board vote');
  });

  it('keeps the open room when the fragment turns into a bad link, and puts the address back on dismiss', async () => {
    const room = { roomId: 'alpha', secret };
    location.hash = hashOf(room);
    await until(() => app.session !== null);
    const before = app.session;
    const changed = nextHashChange();
    location.hash = '#/room/alpha?k=broken';
    await changed;
    await app.updateComplete;
    const alert = app.shadowRoot!.querySelector('[role="alert"]')!;
    expect(alert.textContent).to.include('damaged');
    expect(app.session).to.equal(before);
    expect(log).to.deep.equal(['open alpha']);
    alert.querySelector('button')!.click();
    await app.updateComplete;
    expect(app.shadowRoot!.querySelector('[role="alert"]')).to.equal(null);
    expect(location.hash).to.equal(hashOf(room));
  });

  it('switches rooms by closing the open one first, and closes it when going back to the landing page', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session?.room.roomId === 'alpha');
    location.hash = hashOf({ roomId: 'beta', secret });
    await until(() => app.session?.room.roomId === 'beta');
    location.hash = '#/';
    await until(() => app.session === null && log.length === 4);
    expect(log).to.deep.equal(['open alpha', 'close alpha', 'open beta', 'close beta']);
    expect(window.ednet).to.deep.equal({ session: null, node: null, model: null });
    expect(app.recentRooms.list().map((entry) => entry.roomId)).to.deep.equal(['beta', 'alpha']);
  });

  it('applies and remembers the work-offline choice, and passes the display name on', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    await app.updateComplete;
    const page = app.shadowRoot!.querySelector('ednet-room-page')!;
    page.dispatchEvent(new CustomEvent('work-offline-change', { detail: { offline: true }, bubbles: true, composed: true }));
    page.dispatchEvent(new CustomEvent('display-name-change', { detail: { name: 'Alice' }, bubbles: true, composed: true }));
    expect(log).to.deep.equal(['open alpha', 'offline alpha true', 'name alpha Alice']);
    expect(app.recentRooms.get('alpha')).to.include({ workOffline: true });
    await app.updateComplete;
    expect(page.workOffline, "the page's workOffline").to.equal(true);
    // Reopening the room restores the choice before anything is shown.
    location.hash = '#/';
    await until(() => app.session === null);
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    expect(log.slice(-2)).to.deep.equal(['open alpha', 'offline alpha true']);
  });

  it('replaces the room key: the same room reopens under a new secret, and the link and recent rooms follow', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    await app.updateComplete;
    const page = app.shadowRoot!.querySelector('ednet-room-page')!;
    page.dispatchEvent(new CustomEvent('rotate-room-key', { bubbles: true, composed: true }));
    await until(() => opened.length === 2 && app.session?.room === opened[1]);
    expect(log).to.deep.equal(['open alpha', 'close alpha', 'open alpha']);
    const rotated = opened[1]!;
    expect(rotated.roomId).to.equal('alpha');
    expect(rotated.secret).to.not.equal(secret);
    expect(rotated.secret).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(location.hash).to.equal(hashOf(rotated));
    expect(app.recentRooms.get('alpha')?.secret).to.equal(rotated.secret);
  });

  it('never lets a link with another key replace the stored key silently: it asks which one to keep', async () => {
    const other = 'b3RoZXIta2V5LW9mLXRoZS1saW5rLTEyMzQ1';
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    location.hash = hashOf({ roomId: 'alpha', secret: other });
    await until(() => app.shadowRoot!.querySelector('[role="alertdialog"]') !== null);
    const dialog = () => app.shadowRoot!.querySelector('[role="alertdialog"]')!;
    expect(dialog().textContent).to.include('This link has another key for');
    expect(app.recentRooms.get('alpha')?.secret, 'nothing replaced yet').to.equal(secret);
    expect(opened.map((room) => room.secret)).to.deep.equal([secret]);

    // Keeping the stored key reopens the room with it, and the address follows.
    [...dialog().querySelectorAll('button')].find((button) => button.textContent === 'Keep the key I have')!.click();
    await until(() => opened.length === 2 && app.session?.room === opened[1]);
    expect(opened[1]).to.deep.equal({ roomId: 'alpha', secret });
    expect(location.hash).to.equal(hashOf({ roomId: 'alpha', secret }));

    // Asked again, the user takes the link's key: the room opens with it, and it is stored.
    location.hash = hashOf({ roomId: 'alpha', secret: other });
    await until(() => app.shadowRoot!.querySelector('[role="alertdialog"]') !== null);
    [...dialog().querySelectorAll('button')].find((button) => button.textContent === 'Use the key in this link')!.click();
    await until(() => opened.length === 3 && app.session?.room === opened[2]);
    expect(opened[2]).to.deep.equal({ roomId: 'alpha', secret: other });
    expect(app.recentRooms.get('alpha')?.secret).to.equal(other);
  });

  it('shows why a room could not be opened and offers to try again', async () => {
    let fail = true;
    app.openSession = async (room) => {
      if (fail) throw new Error('storage is blocked');
      return fakeSession(room, log);
    };
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.shadowRoot!.querySelector('[role="alert"]')?.textContent?.includes('storage is blocked') ?? false);
    fail = false;
    app.shadowRoot!.querySelector<HTMLButtonElement>('[role="alert"] button')!.click();
    await until(() => app.session !== null);
  });

  it('asks for a display name once after a room is created, then opens the invitation; a joiner is only asked', async () => {
    const landing = app.shadowRoot!.querySelector('ednet-landing-page')!;
    await landing.updateComplete;
    landing.shadowRoot!.querySelector<HTMLButtonElement>('form button[type="submit"]')!.click();
    await until(() => app.session !== null);
    await app.updateComplete;
    const question = app.shadowRoot!.querySelector('ednet-name-dialog')!;
    await question.updateComplete;
    expect(question.shadowRoot!.querySelector('dialog')!.open, 'the name dialog is open').to.equal(true);
    expect(app.sharing, 'sharing while the name is asked').to.equal(false);
    question.shadowRoot!.querySelector<HTMLInputElement>('#name')!.value = '  Ada  ';
    question.shadowRoot!.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    await app.updateComplete;
    expect(log).to.include(`name ${opened[0]!.roomId} Ada`);
    expect(app.displayNames.read()).to.equal('Ada');
    expect(app.sharing, 'sharing after the name is given').to.equal(true);
    // The sheet's code loads when first asked for; the element opens once defined.
    const invite = app.shadowRoot!.querySelector('ednet-share-dialog')!;
    await until(() => invite.shadowRoot?.querySelector('dialog')?.open === true, 'the share dialog opens');
    expect(invite.link).to.equal(roomLink(location.href, opened[0]!));
    // Escape or "Done" closes the dialog; its close event (a task later) tells the app.
    invite.shadowRoot!.querySelector('dialog')!.close();
    await until(() => !app.sharing);
    // Joining another room: not asked again, no invitation.
    location.hash = hashOf({ roomId: 'beta', secret });
    await until(() => app.session?.room.roomId === 'beta');
    await app.updateComplete;
    expect(app.askingName, 'asking the name in a second room').to.equal(false);
    expect(app.sharing, 'sharing on joining a room').to.equal(false);
  });

  it('a skipped question is not asked again', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    await app.updateComplete;
    expect(app.askingName, 'asking the name in the first room').to.equal(true);
    const question = app.shadowRoot!.querySelector('ednet-name-dialog')!;
    await question.updateComplete;
    [...question.shadowRoot!.querySelectorAll('button')].find((button) => button.textContent!.trim() === 'Skip')!.click();
    expect(app.askingName, 'asking the name after Skip').to.equal(false);
    expect(app.displayNames.asked, 'the question is recorded as asked').to.equal(true);
    expectNone(log, (line) => line.startsWith('name'));
  });

  it('follows the work-offline choice another tab of this device makes for the room', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    new RecentRooms(storage).setWorkOffline('alpha', true);
    window.dispatchEvent(new StorageEvent('storage', { key: RECENT_ROOMS_KEY }));
    new RecentRooms(storage).setWorkOffline('alpha', false);
    window.dispatchEvent(new StorageEvent('storage', { key: RECENT_ROOMS_KEY }));
    window.dispatchEvent(new StorageEvent('storage', { key: 'something-else' }));
    expect(log).to.deep.equal(['open alpha', 'offline alpha true', 'offline alpha false']);
  });

  it('stays offline when another tab forgets the room from its list (forgetting is no switch)', async () => {
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    new RecentRooms(storage).setWorkOffline('alpha', true);
    window.dispatchEvent(new StorageEvent('storage', { key: RECENT_ROOMS_KEY }));
    new RecentRooms(storage).forget('alpha');
    window.dispatchEvent(new StorageEvent('storage', { key: RECENT_ROOMS_KEY }));
    expect(log).to.deep.equal(['open alpha', 'offline alpha true']);
  });

  it('asks for the device’s work-offline choice just before the room’s network starts', async () => {
    const asked: boolean[] = [];
    app.openSession = async (room, options) => {
      // Another tab switched while this one was loading the room.
      new RecentRooms(storage).setWorkOffline(room.roomId, true);
      asked.push(options?.workOffline?.() ?? false);
      log.push(`open ${room.roomId}`);
      return fakeSession(room, log);
    };
    location.hash = hashOf({ roomId: 'alpha', secret });
    await until(() => app.session !== null);
    expect(asked).to.deep.equal([true]);
    // Started offline: not switched again.
    expect(log).to.deep.equal(['open alpha']);
  });

  it('forgets a room only when confirmed, and can take it back', async () => {
    app.recentRooms.opened({ roomId: 'alpha', secret }, 'Board vote');
    app.requestUpdate();
    await app.updateComplete;
    const landing = app.shadowRoot!.querySelector('ednet-landing-page')!;
    landing.recent = app.recentRooms.list();
    await landing.updateComplete;
    landing.shadowRoot!.querySelector<HTMLButtonElement>('button[aria-label="Forget Board vote"]')!.click();
    await landing.updateComplete;
    expect(app.recentRooms.get('alpha')).to.not.equal(undefined);
    landing.shadowRoot!.querySelector<HTMLButtonElement>('button.danger')!.click();
    await app.updateComplete;
    expect(app.recentRooms.get('alpha')).to.equal(undefined);
    const toast = app.shadowRoot!.querySelector('ednet-undo-toast')!;
    await toast.updateComplete;
    expect(toast.shadowRoot!.textContent).to.include('Forgot “Board vote”');
    toast.shadowRoot!.querySelector('button')!.click();
    expect(app.recentRooms.get('alpha')?.name).to.equal('Board vote');
  });
});
