import { expect } from 'chai';
import { InstallPrompt } from '../../src/app/install-prompt.js';
import { PwaUpdates, UpdateState, type WorkboxLike } from '../../src/app/pwa-updates.js';

type Listener = (event: { isUpdate?: boolean; isExternal?: boolean }) => void;

class FakeWorkbox implements WorkboxLike {
  readonly listeners = new Map<string, Listener[]>();
  skipWaitingMessages = 0;
  updates = 0;
  failRegister = false;
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: string, event: { isUpdate?: boolean; isExternal?: boolean } = {}): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
  async register(): Promise<unknown> {
    if (this.failRegister) throw new Error('no service worker here');
    return {};
  }
  async update(): Promise<void> {
    this.updates++;
  }
  messageSkipWaiting(): void {
    this.skipWaitingMessages++;
  }
}

describe('PwaUpdates', () => {
  it('prompts for a waiting version, saves, skips waiting, and reloads once the new worker controls the page', async () => {
    const workbox = new FakeWorkbox();
    const steps: string[] = [];
    const updates = new PwaUpdates(workbox, { beforeReload: async () => void steps.push('saved'), reload: () => steps.push('reloaded') });
    const states: UpdateState[] = [];
    updates.onChange((state) => states.push(state));
    await updates.start();
    workbox.fire('waiting');
    expect(updates.state).to.equal(UpdateState.waiting);
    await updates.applyUpdate();
    expect(steps).to.deep.equal(['saved']);
    expect(workbox.skipWaitingMessages).to.equal(1);
    workbox.fire('controlling', { isUpdate: true });
    expect(steps).to.deep.equal(['saved', 'reloaded']);
    expect(states).to.deep.equal([UpdateState.waiting, UpdateState.applying]);
    updates.stop();
  });

  it('does nothing on apply without a waiting version, and tells about a version taken in another tab', async () => {
    const workbox = new FakeWorkbox();
    let reloads = 0;
    const updates = new PwaUpdates(workbox, { reload: () => reloads++ });
    await updates.applyUpdate();
    expect(workbox.skipWaitingMessages).to.equal(0);
    workbox.fire('activated', { isUpdate: false });
    expect(updates.offlineReady, 'offlineReady after the first activation').to.equal(true);
    workbox.fire('controlling', { isUpdate: false });
    expect(updates.state).to.equal(UpdateState.current);
    workbox.fire('controlling', { isUpdate: true });
    expect(updates.state).to.equal(UpdateState.updatedElsewhere);
    expect(reloads).to.equal(0);
    await updates.applyUpdate();
    expect(reloads).to.equal(1);
  });

  it('checks for updates when the page becomes visible, and survives a failed registration', async () => {
    const workbox = new FakeWorkbox();
    const updates = new PwaUpdates(workbox);
    await updates.start();
    document.dispatchEvent(new Event('visibilitychange'));
    expect(workbox.updates).to.equal(document.visibilityState === 'visible' ? 1 : 0);
    updates.stop();
    const broken = new FakeWorkbox();
    broken.failRegister = true;
    await new PwaUpdates(broken).start();
  });
});

describe('InstallPrompt', () => {
  it('holds the install offer until used, then forgets it', async () => {
    const target = new EventTarget();
    const prompt = new InstallPrompt(target);
    const seen: boolean[] = [];
    prompt.onChange((available) => seen.push(available));
    expect(await prompt.install()).to.equal('unavailable');
    let prompted = 0;
    const offer = Object.assign(new Event('beforeinstallprompt', { cancelable: true }), {
      prompt: async () => void prompted++,
      userChoice: Promise.resolve({ outcome: 'accepted' as const }),
    });
    target.dispatchEvent(offer);
    expect(offer.defaultPrevented, "the browser's own install offer is prevented").to.equal(true);
    expect(prompt.available, 'install available after the offer').to.equal(true);
    expect(await prompt.install()).to.equal('accepted');
    expect(prompted).to.equal(1);
    expect(prompt.available, 'install available after installing').to.equal(false);
    target.dispatchEvent(offer);
    target.dispatchEvent(new Event('appinstalled'));
    expect(seen).to.deep.equal([true, false, true, false]);
    prompt.dispose();
  });
});
