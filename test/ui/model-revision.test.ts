import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import type { ModelChangedDetail } from '../../src/domain/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import '../../src/ui/elections/ednet-voter-roll.js';
import '../../src/ui/ednet-elections-view.js';
import { Memo } from '../../src/ui/shared/memo.js';
import { ModelController, type ObservableModel } from '../../src/ui/shared/model-controller.js';
import { find, mount, settle, unmountAll } from './ui-test-helpers.js';

/** A host that records its update requests, for the controller alone. */
function fakeHost() {
  const controllers: ModelController[] = [];
  return {
    updates: 0,
    addController(controller: ModelController) {
      controllers.push(controller);
    },
    removeController() {},
    requestUpdate() {
      this.updates++;
    },
    updateComplete: Promise.resolve(true),
    connect: () => controllers.forEach((controller) => controller.hostConnected()),
    disconnect: () => controllers.forEach((controller) => controller.hostDisconnected()),
  };
}

function fakeModel() {
  const listeners = new Set<(detail: ModelChangedDetail) => void>();
  const model: ObservableModel & { change(origin?: 'local' | 'remote'): void } = {
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    change: (origin = 'local') => listeners.forEach((listener) => listener({ origin, changes: [] } as unknown as ModelChangedDetail)),
  };
  return model;
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
const nextTask = () => new Promise((resolve) => setTimeout(resolve));

describe('ModelController batching', () => {
  it('updates its host once per frame for a burst of changes from peers, spread over tasks', async () => {
    const host = fakeHost();
    const model = fakeModel();
    new ModelController(host, () => model);
    host.connect();
    await nextFrame();
    for (let i = 0; i < 100; i++) model.change('remote');
    await nextTask();
    for (let i = 0; i < 100; i++) model.change('remote');
    await Promise.resolve();
    // Two hundred changes, no update yet: they wait for the frame.
    expect(host.updates).to.equal(0);
    await nextFrame();
    expect(host.updates).to.equal(1);
    await nextFrame();
    expect(host.updates).to.equal(1);
  });

  it('updates at once (in the same task) for a local edit, which also shows the changes waiting for a frame', async () => {
    const host = fakeHost();
    const model = fakeModel();
    new ModelController(host, () => model);
    host.connect();
    await nextFrame();
    model.change('remote');
    model.change('local');
    model.change('local');
    await Promise.resolve();
    expect(host.updates).to.equal(1);
    await nextFrame();
    await nextFrame();
    expect(host.updates).to.equal(1);
  });

  it('does not wake a host that left the page', async () => {
    const host = fakeHost();
    const model = fakeModel();
    new ModelController(host, () => model);
    host.connect();
    model.change('remote');
    host.disconnect();
    await nextFrame();
    await nextFrame();
    expect(host.updates).to.equal(0);
  });
});

describe('Memo', () => {
  it('computes again only when an argument changed', () => {
    const calls: string[] = [];
    const memo = new Memo((a: number, b: string) => {
      calls.push(`${a}${b}`);
      return { a, b };
    });
    const first = memo.get(1, 'x');
    expect(memo.get(1, 'x')).to.equal(first);
    memo.get(2, 'x');
    memo.get(2, 'y');
    memo.get(2, 'y');
    expect(calls).to.deep.equal(['1x', '2x', '2y']);
  });

  it('keeps the last value when the computation throws', () => {
    let fail = false;
    const memo = new Memo((a: number) => {
      if (fail) throw new Error('no');
      return a * 2;
    });
    expect(memo.get(1)).to.equal(2);
    fail = true;
    expect(() => memo.get(2)).to.throw('no');
    expect(memo.get(1)).to.equal(2);
  });
});

describe('ModelController.revision', () => {
  it('moves with every change, every new model and every resubscription, and only then', () => {
    const host = fakeHost();
    let model: ObservableModel = fakeModel();
    const controller = new ModelController(host, () => model);
    host.connect();
    const subscribed = controller.revision;
    controller.hostUpdate();
    expect(controller.revision).to.equal(subscribed);
    (model as ReturnType<typeof fakeModel>).change();
    (model as ReturnType<typeof fakeModel>).change();
    expect(controller.revision).to.equal(subscribed + 2);
    model = fakeModel();
    controller.hostUpdate();
    expect(controller.revision).to.equal(subscribed + 3);
    host.disconnect();
    host.connect();
    // Changes while disconnected went unheard: the resubscription counts as one.
    expect(controller.revision).to.equal(subscribed + 4);
  });
});

describe('a view under a burst of changes from a peer', () => {
  afterEach(unmountAll);

  it('renders at most once per frame, however many batches arrive', async () => {
    const alice = new ElectoralSystemModel({ modelId: 'electoral', nodeId: 'alice' as NodeId, roles: 'open' });
    const bob = new ElectoralSystemModel({ modelId: 'electoral', nodeId: 'bob' as NodeId, roles: 'open' });
    const view = await mount('ednet-elections-view', { model: bob });
    let renders = 0;
    const hooks = view as unknown as { updated(changed: Map<PropertyKey, unknown>): void };
    const updated = hooks.updated.bind(view);
    hooks.updated = (changed) => {
      renders++;
      updated(changed);
    };
    let frames = 0;
    let counting = true;
    const countFrames = () => {
      frames++;
      if (counting) requestAnimationFrame(countFrames);
    };
    requestAnimationFrame(countFrames);
    // One batch per task, as messages from a peer arrive.
    for (let i = 0; i < 60; i++) {
      const since = bob.version;
      alice.createElection({ title: `Election ${i}` });
      bob.applyChanges(alice.getDelta(since));
      await new Promise((resolve) => setTimeout(resolve));
    }
    await settle();
    counting = false;
    expect(renders).to.be.at.least(1);
    expect(renders).to.be.at.most(frames + 1);
    expect(find(view, '#election-count').textContent).to.contain('60 elections');
  });
});

describe('ednet-voter-roll scanning', () => {
  afterEach(unmountAll);

  it('scans the voters once per model change, not on renders that change nothing in the model', async () => {
    const model = new ElectoralSystemModel({ modelId: 'electoral', nodeId: 'alice' as NodeId, roles: 'open' });
    const election = model.createElection({ title: 'Board' });
    for (let i = 1; i <= 8; i++) model.registerVoter({ name: `Voter ${i}`, voterNumber: `V-${i}` });
    let scans = 0;
    const voters = model.voters.bind(model);
    model.voters = () => {
      scans++;
      return voters();
    };
    const roll = await mount('ednet-voter-roll', { model, electionId: election.oid });
    expect(scans).to.equal(1);
    roll.requestUpdate();
    await settle();
    expect(scans).to.equal(1);
    const voter = model.registerVoter({ name: 'Voter 9', voterNumber: 'V-9' });
    await settle();
    expect(scans).to.equal(2);
    expect(find(roll, '#voters-heading').textContent).to.include('0 of 9 registered');
    model.registerForElection(voter.oid, election.oid);
    await settle();
    expect(find(roll, '#voters-heading').textContent).to.include('1 of 9 registered');
  });
});
