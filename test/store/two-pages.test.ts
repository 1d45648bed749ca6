import { expect } from 'chai';
import { IndexedDbStorageAdapter, ModelPersistence } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';
import type { IframeTab } from './iframe-tab.js';
import { deleteTestDb, uniqueDbName } from './unique-db-name.js';
import { eventually } from '../eventually.js';

/** Opens a same-origin iframe running one tab of the room; resolves with it once loaded. */
function openPage(dbName: string, onMessage: (data: { type: string; saved?: Array<[string, string]> }) => void = () => undefined) {
  const frame = document.createElement('iframe');
  const ready = new Promise<IframeTab>((resolve) => {
    const listen = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow) return;
      if (event.data?.type === 'ready') resolve((frame.contentWindow as unknown as { tab: IframeTab }).tab);
      onMessage(event.data);
    };
    window.addEventListener('message', listen);
  });
  const module = new URL('./iframe-tab.ts', import.meta.url).pathname;
  frame.srcdoc = `<script type="module">import { startIframeTab } from '${module}'; startIframeTab(${JSON.stringify(dbName)});</script>`;
  document.body.append(frame);
  return { frame, ready };
}

/** What a fresh tab of this page loads from the database. */
async function storedEntities(dbName: string): Promise<string> {
  const storage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
  const model = election('zed');
  try {
    const stored = await storage.load('election');
    model.loadState(stored.entities, stored.version);
    return entitiesOf(model);
  } finally {
    storage.close();
  }
}

describe('Two pages of one room (iframes, each its own realm)', () => {
  let dbName: string;
  const frames: HTMLIFrameElement[] = [];
  beforeEach(() => {
    dbName = uniqueDbName();
  });
  afterEach(async () => {
    for (const frame of frames.splice(0)) frame.remove();
    await deleteTestDb(dbName);
  });

  it('two pages writing the same entities at once: the database and both pages hold every write', async () => {
    // Seed two shared candidates, as an earlier session would have.
    const seedStorage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
    const seed = election('seed');
    const seeding = new ModelPersistence(seed, seedStorage);
    await seeding.load();
    const shared = [seed.create('Candidate', { name: 'X' }).oid, seed.create('Candidate', { name: 'Y' }).oid];
    await seeding.whenSaved();
    seeding.close();
    seedStorage.close();

    const pageA = openPage(dbName);
    const pageB = openPage(dbName);
    frames.push(pageA.frame, pageB.frame);
    const [tabA, tabB] = await Promise.all([pageA.ready, pageB.ready]);
    expect(tabA.nodeId).to.not.equal(tabB.nodeId);
    await Promise.all([tabA.writeRounds(30, 'a', shared), tabB.writeRounds(30, 'b', shared)]);

    const stored = await storedEntities(dbName);
    await eventually(() => tabA.entities() === stored && tabB.entities() === stored);
    const states = JSON.parse(stored) as Array<{ oid: string; attributes: Record<string, Array<{ value: unknown }>> }>;
    expect(states).to.have.length(62);
    for (const oid of shared) {
      const state = states.find((entity) => entity.oid === oid)!;
      expect(state.attributes.votes!.map((write) => write.value)).to.deep.equal([29]);
      expect(state.attributes.name!.map((write) => write.value)).to.deep.equal(['b29']);
    }
  });

  it('a page closed in the middle of a burst: every write it reported saved is in the database', async () => {
    const saved = new Map<string, string>();
    const page = openPage(dbName, (data) => {
      if (data.type === 'saved') for (const [oid, name] of data.saved!) saved.set(oid, name);
    });
    frames.push(page.frame);
    (await page.ready).burst();
    await eventually(() => saved.size >= 20);
    page.frame.remove();
    const reported = new Map(saved);
    const states = JSON.parse(await storedEntities(dbName)) as Array<{ oid: string; attributes: Record<string, Array<{ value: unknown }>> }>;
    const stored = new Map(states.map((entity) => [entity.oid, entity.attributes.name![0]!.value]));
    for (const [oid, name] of reported) expect(stored.get(oid), oid).to.equal(name);
  });
});
