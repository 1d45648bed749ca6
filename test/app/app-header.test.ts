import { setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import '../../src/app/ednet-app.js';
import type { EDNetApp } from '../../src/app/ednet-app.js';
import { DisplayNameStore } from '../../src/app/display-name-store.js';
import { InstallPrompt } from '../../src/app/install-prompt.js';
import { RecentRooms, type KeyValueStorage } from '../../src/app/recent-rooms.js';
import { roomLink } from '../../src/app/room-link.js';
import type { RoomRef, RoomSession } from '../../src/app/room-session.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import { eventually } from '../eventually.js';
import { nodeStatus } from '../node-status.js';

const room: RoomRef = { roomId: 'council', secret: 'aGVsbG8td29ybGQtMTIzNDU2Nzg5MA' };

function fakeSession(ref: RoomRef): RoomSession {
  const nodeId = 'alice' as NodeId;
  return {
    room: ref,
    node: { nodeId } as unknown as EDNetP2PNode,
    model: new ElectoralSystemModel({ modelId: 'electoral', nodeId, roles: 'open' }),
    status: nodeStatus({ nodeId }),
    onStatus: () => () => {},
    setDisplayName: () => {},
    setWorkOffline: () => {},
    exportRoom: async () => new Blob(['{}']),
    importRoom: async () => ({ ok: true, value: [] }),
    close: async () => {},
  };
}

function memoryStorage(): KeyValueStorage {
  const data = new Map<string, string>();
  return { getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) };
}

describe('ednet-app header on a 360 px phone', () => {
  let app: EDNetApp;

  afterEach(async () => {
    app?.remove();
    history.replaceState(null, '', '#/');
    await setViewport({ width: 1024, height: 768 });
  });

  it('stays one row with Invite and Install, and still shows the room’s name', async () => {
    await setViewport({ width: 360, height: 740 });
    app = document.createElement('ednet-app');
    app.recentRooms = new RecentRooms(memoryStorage());
    app.recentRooms.opened(room, 'Student council');
    const names = new DisplayNameStore(memoryStorage());
    names.markAsked();
    app.displayNames = names;
    app.openSession = async (ref) => fakeSession(ref);
    // The browser offers to install the app.
    const target = new EventTarget();
    app.install = new InstallPrompt(target);
    const offer = Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
      prompt: async () => {},
      userChoice: Promise.resolve({ outcome: 'dismissed' as const }),
    });
    target.dispatchEvent(offer);
    history.replaceState(null, '', new URL(roomLink(location.href, room)).hash);
    document.body.append(app);
    await eventually(() => app.session !== null, 'the room to open');
    await app.updateComplete;
    const header = app.shadowRoot!.querySelector('header')!;
    const buttons = [...header.querySelectorAll('button')].map((button) => button.innerText.trim());
    expect(buttons).to.deep.equal(['Invite', 'Install']);
    const name = header.querySelector<HTMLElement>('.room-name')!;
    expect(name.textContent).to.equal('Student council');
    // One row: every part of the header on the same line.
    const tops = [header.querySelector('h1')!, name, ...header.querySelectorAll('button')].map((part) => Math.round(part.getBoundingClientRect().top + part.getBoundingClientRect().height / 2));
    expect(new Set(tops).size, `middles ${tops.join(', ')}`).to.equal(1);
    // Room for about ten characters of the name, not two and an ellipsis.
    expect(name.getBoundingClientRect().width).to.be.at.least(85);
    expect(header.querySelector('h1')!.innerText.trim()).to.equal('EDNet');
    // Without a room's name beside it, the brand is whole on a phone too.
    location.hash = '#/';
    await eventually(() => app.page.kind === 'landing', 'the landing page');
    await app.updateComplete;
    expect(header.querySelector('h1')!.innerText.replace(/\s+/g, ' ').trim()).to.equal('EDNet P2P');
    // Wider, the brand is whole, its words apart.
    await setViewport({ width: 1280, height: 800 });
    const link = header.querySelector('h1 a')!;
    expect(link.textContent!.replace(/\s/g, ' ')).to.equal('EDNet P2P');
    // A space shows between the words (one at the start of a flex item would be dropped).
    const rectOf = (text: string) => {
      const walker = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent!.indexOf(text);
        if (at < 0) continue;
        const range = document.createRange();
        range.setStart(node, at);
        range.setEnd(node, at + text.length);
        return range.getBoundingClientRect();
      }
      throw new Error(`no "${text}" in the brand`);
    };
    expect(rectOf('P2P').left - rectOf('EDNet').right).to.be.at.least(3);
  });
});
