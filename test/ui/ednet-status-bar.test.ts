import { emulateMedia, sendKeys, setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import type { NodeStatus } from '../../src/node/node-events.js';
import '../../src/ui/index.js';
import type { EdnetStatusBar } from '../../src/ui/index.js';
import { axeViolations, find, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';
import { nodeStatus } from '../node-status.js';

function status(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return nodeStatus({
    peers: [
      { peerId: 'bob-node-0123456789' as NodeId, displayName: 'Bob', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null },
      { peerId: 'carol-node-0123456789' as NodeId, displayName: null, via: 'broadcast-channel', inSync: false, refused: 0, lastRefusal: null },
    ],
    unsentChanges: 3,
    unsavedChanges: 1,
    receiving: { modelId: 'election-2024', peerId: 'bob-node-0123456789' as NodeId, part: 3, parts: 10 },
    ...overrides,
  });
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

  it('says in words whom it reaches and where the edits are; the technical detail is behind Details', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    expect(textOf(find(bar, '.lines'))).to.equal('Connected to Bob and device carol-no… · Receiving the room from Bob: part 3 of 10');
    const details = textOf(find(bar, '#details'));
    expect(details).to.contain('Server for finding others connected');
    expect(details).to.contain('bob-node-0123456789, via webrtc, up to date');
    expect(details).to.contain('via broadcast-channel, catching up');
    expect(details).to.contain('3 changes no peer has confirmed');
    expect(details).to.contain('1 change');
    expect(details).to.contain('kept: the browser will not clear it');
    expect(textOf(bar)).not.to.match(/Online|Signaling|peers/);
    const progress = find<HTMLProgressElement>(bar, 'progress');
    expect(progress.value).to.equal(3);
    expect(progress.max).to.equal(10);
    expect(find<HTMLInputElement>(bar, '#display-name').value).to.equal('Alice');
  });

  it('never says it reaches anyone while nobody can be reached; counts the user’s edits', async () => {
    const bar = await mount('ednet-status-bar', {
      status: status({ signaling: 'disconnected', peers: [], unsentChanges: 0, unsavedChanges: 0, receiving: null }),
    });
    const lines = () => textOf(find(bar, '.lines'));
    expect(lines()).to.equal('Can’t reach the server to find others · Your changes are saved here');
    bar.status = status({ signaling: 'connected', peers: [], unsentChanges: 11, unsavedChanges: 0, receiving: null });
    bar.unsentEdits = 3;
    await settle();
    expect(lines()).to.equal('Nobody else is here right now · 3 of your edits are waiting to be sent');
    bar.unsentEdits = 1;
    bar.status = status({ online: false, signaling: 'off', peers: [], unsentChanges: 4, unsavedChanges: 0, receiving: null, storageError: 'QuotaExceededError: the disk is full' });
    await settle();
    expect(lines()).to.equal('This device is offline · Your changes could not be saved on this device');
    expect(find(bar, '[role="alert"]').textContent).to.contain('the disk is full');
    bar.status = status({ receiving: null, unsentChanges: 0, unsavedChanges: 0, peers: [status().peers[0]!] });
    await settle();
    expect(lines()).to.equal('Connected to Bob · Everything saved and sent');
  });

  it('counts a room being received in items, estimating the total from the parts', async () => {
    const bar = await mount('ednet-status-bar', {
      status: status({ receiving: { modelId: 'election-2024', peerId: 'bob-node-0123456789' as NodeId, part: 3, parts: 10, items: 3_000 } }),
    });
    expect(textOf(find(bar, '.saved'))).to.equal('Receiving the room from Bob: 3,000 of about 10,000 items');
  });

  it('names peers by the name their device shares with the room, and their other tabs once', async () => {
    const device = 'b'.repeat(32);
    const peer = (tab: string) => ({ peerId: `${device}${tab}` as NodeId, displayName: null, via: 'webrtc', inSync: true, refused: 0, lastRefusal: null });
    const ownTab = { ...peer('x'), peerId: `${'a'.repeat(32)}tab2` as NodeId };
    const bar = await mount('ednet-status-bar', {
      status: status({ nodeId: `${'a'.repeat(32)}tab1` as NodeId, peers: [peer('tab1'), peer('tab2'), ownTab], receiving: null, unsentChanges: 0, unsavedChanges: 0 }),
      names: new Map([[device, 'Beatrice']]),
    });
    expect(textOf(find(bar, '.lines'))).to.equal('Connected to Beatrice and another tab here · Everything saved and sent');
  });

  it('keeps its height whatever it says, on a phone and on a desktop', async () => {
    for (const width of [360, 1024]) {
      await setViewport({ width, height: 700 });
      const bar = await mount('ednet-status-bar', { status: status() });
      const tall = bar.getBoundingClientRect().height;
      bar.status = status({ peers: [], signaling: 'connected', receiving: null, unsentChanges: 0, unsavedChanges: 0 });
      await settle();
      expect(bar.getBoundingClientRect().height, `at ${width}px`).to.equal(tall);
      unmountAll();
    }
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
      expect(bar.workOffline, "the bar's workOffline after the switch").to.equal(true);
      bar.status = status({ online: false });
      await settle();
      expect(textOf(bar)).to.contain('Working offline on this device (every tab of this room)');
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
      find<HTMLButtonElement>(bar, 'button.toggle').click();
      await settle();
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

  it('is compact at 360px: two lines, the switch and the rest behind Details, which Escape closes', async () => {
    await setViewport({ width: 360, height: 640 });
    const bar = await mount('ednet-status-bar', { status: status() });
    const toggle = find<HTMLButtonElement>(bar, 'button.toggle');
    const details = find(bar, '#details');
    const offline = find(bar, 'label.switch');
    expect(getComputedStyle(details).display).to.equal('none');
    expect(getComputedStyle(offline).display).to.equal('none');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    toggle.click();
    await settle();
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    expect(getComputedStyle(details).display).not.to.equal('none');
    expect(getComputedStyle(offline).display).not.to.equal('none');
    expect(document.documentElement.scrollWidth).to.be.at.most(360);
    expect(await axeViolations(bar)).to.deep.equal([]);
    find<HTMLInputElement>(bar, '#display-name').focus();
    await sendKeys({ press: 'Escape' });
    await settle();
    expect(getComputedStyle(details).display).to.equal('none');
    expect(bar.shadowRoot!.activeElement).to.equal(toggle);
  });

  it('shows the switch on wide screens, the detail behind Details', async () => {
    const bar = await mount('ednet-status-bar', { status: status() });
    expect(getComputedStyle(find(bar, 'label.switch')).display).not.to.equal('none');
    expect(getComputedStyle(find(bar, '#details')).display).to.equal('none');
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
