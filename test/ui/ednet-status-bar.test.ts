import { emulateMedia, sendKeys, setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import type { NodeStatus } from '../../src/node/node-events.js';
import '../../src/ui/index.js';
import type { EdnetStatusBar } from '../../src/ui/index.js';
import { axeViolations, find, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';

function status(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    nodeId: 'alice-node-0123456789' as NodeId,
    displayName: 'Alice',
    online: true,
    signaling: 'connected',
    peers: [
      { peerId: 'bob-node-0123456789' as NodeId, displayName: 'Bob', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null },
      { peerId: 'carol-node-0123456789' as NodeId, displayName: null, via: 'broadcast-channel', inSync: false, refused: 0, lastRefusal: null },
    ],
    unsentChanges: 3,
    unsavedChanges: 1,
    receiving: { modelId: 'election-2024', peerId: 'bob-node-0123456789' as NodeId, part: 3, parts: 10 },
    persistence: 'granted',
    storageError: null,
    roomKeyProblem: null,
    connectionProblem: null,
    ...overrides,
  };
}

describe('ednet-status-bar', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
    await emulateMedia({ colorScheme: 'light' });
  });

  it('says it is starting until a status arrives', async () => {
    const bar = await mount('ednet-status-bar');
    expect(textOf(bar)).to.contain('Starting');
  });

  it('shows connectivity, signaling, peers, unsent and unsaved changes, progress and storage', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    const text = textOf(bar);
    expect(text).to.contain('Online');
    expect(text).to.contain('Signaling connected');
    expect(text).to.contain('2 peers, 1 syncing');
    expect(text).to.contain('Bob');
    expect(text).to.contain('carol-no…');
    expect(text).to.contain('via webrtc, in sync');
    expect(text).to.contain('via broadcast-channel, syncing');
    expect(text).to.contain('3 unsent changes');
    expect(text).to.contain('1 unsaved change');
    expect(text).to.contain('Storage is persistent');
    const progress = find<HTMLProgressElement>(bar, 'progress');
    expect(progress.value).to.equal(3);
    expect(progress.max).to.equal(10);
    expect(text).to.contain('Receiving room from Bob');
    expect(find<HTMLInputElement>(bar, '#display-name').value).to.equal('Alice');
  });

  it('follows every status change: offline, no peers, everything sent and saved, storage error', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    bar.status = status({
      online: false,
      signaling: 'disconnected',
      peers: [],
      unsentChanges: 0,
      unsavedChanges: 0,
      receiving: null,
      persistence: 'denied',
      storageError: 'QuotaExceededError: the disk is full',
    });
    await settle();
    const text = textOf(bar);
    expect(text).to.contain('Offline');
    expect(text).to.contain('Signaling disconnected');
    expect(text).to.contain('No peers');
    expect(text).to.contain('All changes sent');
    expect(text).to.contain('All changes saved');
    expect(text).to.contain('Storage may be cleared by the browser');
    expect(bar.shadowRoot!.querySelector('progress')).to.equal(null);
    expect(find(bar, '[role="alert"]').textContent).to.contain('the disk is full');
  });

  it('renders peer-supplied names as text, never as markup', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const bar = await mount('ednet-status-bar', {
      status: status({ peers: [{ peerId: 'mallory' as NodeId, displayName: hostile, via: 'webrtc', inSync: true, refused: 0, lastRefusal: null }] }),
    });
    expect(bar.shadowRoot!.querySelector('img')).to.equal(null);
    expect(textOf(bar)).to.contain(hostile);
  });

  it('fires work-offline-change from the switch, bubbling out of the shadow root', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    const heard: boolean[] = [];
    const listener = (event: Event) => heard.push((event as CustomEvent<{ offline: boolean }>).detail.offline);
    document.addEventListener('work-offline-change', listener);
    try {
      const toggle = find<HTMLInputElement>(bar, 'input[role="switch"]');
      toggle.click();
      await settle();
      expect(bar.workOffline).to.equal(true);
      bar.status = status({ online: false });
      await settle();
      expect(textOf(bar)).to.contain('Working offline');
      toggle.focus();
      await sendKeys({ press: 'Space' });
      await settle();
      expect(heard).to.deep.equal([true, false]);
    } finally {
      document.removeEventListener('work-offline-change', listener);
    }
  });

  it('fires display-name-change once when a name is typed and Enter pressed', async () => {
    const bar = await mount('ednet-status-bar', { status: status({ displayName: null }) });
    const names: string[] = [];
    const listener = (event: Event) => names.push((event as CustomEvent<{ name: string }>).detail.name);
    document.addEventListener('display-name-change', listener);
    try {
      find<HTMLInputElement>(bar, '#display-name').focus();
      await sendKeys({ type: '  Alice Smith ' });
      await sendKeys({ press: 'Enter' });
      await settle();
      expect(names).to.deep.equal(['Alice Smith']);
      find<HTMLInputElement>(bar, '#display-name').blur();
      await settle();
      expect(names).to.deep.equal(['Alice Smith']);
    } finally {
      document.removeEventListener('display-name-change', listener);
    }
  });

  it('is compact at 360px: essentials in a line, the rest behind the Details button', async () => {
    await setViewport({ width: 360, height: 640 });
    const bar = await mount('ednet-status-bar', { status: status() });
    const toggle = find<HTMLButtonElement>(bar, 'button.toggle');
    const details = find(bar, '#details');
    expect(getComputedStyle(toggle).display).not.to.equal('none');
    expect(getComputedStyle(details).display).to.equal('none');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.click();
    await settle();
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    expect(getComputedStyle(details).display).not.to.equal('none');
    expect(document.documentElement.scrollWidth).to.be.at.most(360);
    expect(await axeViolations(bar)).to.deep.equal([]);
  });

  it('hides the Details button on wide screens, where everything shows', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    expect(getComputedStyle(find(bar, 'button.toggle')).display).to.equal('none');
    expect(getComputedStyle(find(bar, '#details')).display).not.to.equal('none');
  });

  it('shows what was refused from a peer, and why, as text', async () => {
    const peer = { peerId: 'mallory' as NodeId, displayName: 'Mallory', via: 'webrtc', inSync: true, refused: 3, lastRefusal: 'delta: bad seq <b>' };
    const bar = await mount('ednet-status-bar', { status: status({ peers: [peer] }) });
    const refused = find(bar, '.refused');
    expect(refused.textContent).to.contain('3 messages refused, last: delta: bad seq <b>');
    expect(refused.querySelector('b')).to.equal(null);
  });

  it('says when a peer of the room holds another room key', async () => {
    const bar = await mount('ednet-status-bar', { status: status({ roomKeyProblem: 'Wrong or missing room key' }) });
    const alert = find(bar, '.room-key-problem');
    expect(alert.getAttribute('role')).to.equal('alert');
    expect(alert.textContent).to.contain('Wrong or missing room key');
    const fine = await mount('ednet-status-bar', { status: status() });
    expect(fine.shadowRoot!.querySelector('.room-key-problem')).to.equal(null);
  });

  it('says how many damaged stored records were set aside, pointing to the Audit tab', async () => {
    const problem = { kind: 'entity', modelId: 'electoral', key: 'e1', reason: 'entity e1 is stored as null', recovery: 'Kept aside.', at: 0 } as const;
    const bar = await mount('ednet-status-bar', { status: status({ storageProblems: [problem, { ...problem, key: 'e2' }] }) });
    const line = find(bar, '.storage-problems');
    expect(line.getAttribute('role')).to.equal('status');
    expect(line.textContent!.replace(/\s+/g, ' ')).to.contain('2 damaged stored records set aside; the room opened without them');
    expect(line.textContent).to.contain('Audit tab');
    expect(await axeViolations(bar)).to.deep.equal([]);
    const fine = await mount('ednet-status-bar', { status: status({ storageProblems: [] }) });
    expect(fine.shadowRoot!.querySelector('.storage-problems')).to.equal(null);
  });

  it('says why a device of the room could not be reached', async () => {
    const bar = await mount('ednet-status-bar', { status: status({ connectionProblem: 'Could not reach this device: relay refused' }) });
    expect(find(bar, '.connection-problem').textContent).to.contain('Could not reach this device: relay refused');
    const fine = await mount('ednet-status-bar', { status: status() });
    expect(fine.shadowRoot!.querySelector('.connection-problem')).to.equal(null);
  });

  it('has no axe violations', async () => {
    const bar: EdnetStatusBar = await mount('ednet-status-bar', { status: status({ storageError: 'IndexedDB closed' }) });
    expect(await axeViolations(bar)).to.deep.equal([]);
  });

  it('has no axe violations in the dark colour scheme either', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const bar = await mount('ednet-status-bar', { status: status({ storageError: 'IndexedDB closed' }) });
    expect(await axeViolations(bar)).to.deep.equal([]);
  });
});
