// Runs one "tab" of a room inside an iframe (its own JavaScript realm, like a real tab), for the
// two-page tests. The parent page drives it through `window.tab` and hears from it by postMessage.
import { IndexedDbStorageAdapter, ModelPersistence, NodeIdentity } from '../../src/store/index.js';
import { election, entitiesOf } from './election-model.js';

/** What the parent page can call on the iframe's window. */
export interface IframeTab {
  readonly nodeId: string;
  /** Canonical text of the tab's in-memory entities. */
  entities(): string;
  /** Writes `rounds` times, one event-loop turn per round; resolves once all is saved. */
  writeRounds(rounds: number, role: 'a' | 'b', sharedOids: readonly string[]): Promise<void>;
  /** Creates one entity per turn until stopped (by removing the iframe), reporting each save. */
  burst(): void;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Opens the room's database and loads the model, then exposes the tab as `window.tab`. */
export async function startIframeTab(dbName: string): Promise<void> {
  const storage = new IndexedDbStorageAdapter({ roomId: 'r', dbName });
  const identity = await NodeIdentity.claim(storage);
  const model = election(identity.nodeId);
  const persistence = new ModelPersistence(model, storage, { identity });
  await persistence.load();
  const names = new Map<string, string>();
  persistence.onEvent((event) => {
    if (event.type === 'saved') parent.postMessage({ type: 'saved', saved: event.oids.map((oid) => [oid, names.get(oid)]) }, '*');
  });
  const tab: IframeTab = {
    nodeId: identity.nodeId,
    entities: () => entitiesOf(model),
    async writeRounds(rounds, role, sharedOids) {
      for (let round = 0; round < rounds; round++) {
        for (const oid of sharedOids) {
          if (role === 'a') model.get(oid)!.setAttribute('votes', round);
          else model.get(oid)!.setAttribute('name', `b${round}`);
        }
        model.create('Candidate', { name: `${role}-only-${round}` });
        await turn();
      }
      await persistence.whenSaved();
    },
    burst() {
      let i = 0;
      const next = (): void => {
        const candidate = model.create('Candidate', { name: `burst-${i++}` });
        names.set(candidate.oid, candidate.getAttribute('name') as string);
        setTimeout(next, 0);
      };
      next();
    },
  };
  (window as unknown as { tab: IframeTab }).tab = tab;
  parent.postMessage({ type: 'ready', nodeId: identity.nodeId }, '*');
}
