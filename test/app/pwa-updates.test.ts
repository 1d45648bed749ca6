import { expect } from 'chai';
import { InstallPrompt } from '../../src/app/install-prompt.js';
import { PwaUpdates, type ServiceWorkerHost, UpdateState, type WorkboxLike, appServiceWorker } from '../../src/app/pwa-updates.js';

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

/** A service worker as `appServiceWorker` sees it: a state, its changes, and messages posted to it. */
class FakeWorker extends EventTarget {
  state: ServiceWorkerState = 'installing';
  readonly messages: unknown[] = [];
  postMessage(message: unknown): void {
    this.messages.push(message);
  }
  become(state: ServiceWorkerState): void {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

class FakeRegistration extends EventTarget {
  installing: FakeWorker | null = null;
  waiting: FakeWorker | null = null;
  updates = 0;
  async update(): Promise<void> {
    this.updates++;
  }
  /** A new worker starts installing (as after `update()` found a new version). */
  found(worker: FakeWorker): void {
    this.installing = worker;
    this.dispatchEvent(new Event('updatefound'));
  }
}

class FakeContainer extends EventTarget {
  controller: FakeWorker | null = null;
  readonly registration = new FakeRegistration();
  readonly registered: Array<[string, RegistrationOptions | undefined]> = [];
  async register(url: string, options?: RegistrationOptions): Promise<ServiceWorkerRegistration> {
    this.registered.push([url, options]);
    return this.registration as unknown as ServiceWorkerRegistration;
  }
}

/** `appServiceWorker` on a fake container, with every event it fires, in order. */
function followed(container: FakeContainer) {
  const worker = appServiceWorker('/app/', container as unknown as ServiceWorkerHost);
  const events: string[] = [];
  for (const type of ['waiting', 'activated', 'controlling'] as const) worker.addEventListener(type, (event) => events.push(`${type} ${event.isUpdate ? 'update' : 'first'}`));
  return { worker, events };
}

describe('appServiceWorker', () => {
  it('registers the worker of the base path and reports a first install as no update', async () => {
    const container = new FakeContainer();
    const first = new FakeWorker();
    container.registration.installing = first;
    const { worker, events } = followed(container);
    await worker.register();
    expect(container.registered).to.deep.equal([['/app/sw.js', { scope: '/app/' }]]);
    // The same installing worker also arrives through `updatefound`: followed once.
    container.registration.found(first);
    first.become('installed');
    first.become('activating');
    first.become('activated');
    container.controller = first;
    container.dispatchEvent(new Event('controllerchange'));
    expect(events).to.deep.equal(['activated first', 'controlling first']);
  });

  it('reports a new version waiting behind the controlling one, and tells that one to skip waiting', async () => {
    const container = new FakeContainer();
    container.controller = new FakeWorker();
    const { worker, events } = followed(container);
    await worker.register();
    worker.messageSkipWaiting();
    await worker.update();
    expect(container.registration.updates).to.equal(1);
    const next = new FakeWorker();
    container.registration.found(next);
    next.become('installed');
    expect(events).to.deep.equal(['waiting update']);
    container.registration.installing = null;
    container.registration.waiting = next;
    worker.messageSkipWaiting();
    expect(next.messages).to.deep.equal([{ type: 'SKIP_WAITING' }]);
    next.become('activating');
    next.become('activated');
    container.dispatchEvent(new Event('controllerchange'));
    expect(events).to.deep.equal(['waiting update', 'activated update', 'controlling update']);
  });

  it('reports a version that was already waiting when the page registered', async () => {
    const container = new FakeContainer();
    container.controller = new FakeWorker();
    container.registration.waiting = new FakeWorker();
    const { worker, events } = followed(container);
    await worker.register();
    expect(events).to.deep.equal(['waiting update']);
  });

  it('fails to register where no service worker is offered, so the app says it works online only', async () => {
    const worker = appServiceWorker('/');
    // As in an insecure context: the page's own property hides the prototype's getter until deleted.
    Object.defineProperty(navigator, 'serviceWorker', { value: undefined, configurable: true });
    try {
      let failed = false;
      await worker.register().catch(() => (failed = true));
      expect(failed).to.equal(true);
    } finally {
      delete (navigator as { serviceWorker?: unknown }).serviceWorker;
    }
    expect(navigator.serviceWorker).to.not.equal(undefined);
  });
});
