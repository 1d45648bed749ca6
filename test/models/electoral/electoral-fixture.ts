import { ElectoralSystemModel } from '../../../src/models/electoral/index.js';
import { fakeClock } from '../../crdt/fake-clock.js';

/** An electoral replica for `node` with its own fake clock and predictable ids. */
export function electoral(node: string, clock = fakeClock()): ElectoralSystemModel {
  let n = 0;
  return new ElectoralSystemModel({ modelId: 'election-2024', nodeId: node, getNow: clock.now, newId: () => `${node}-${++n}` });
}

/** Sends `to` everything it lacks from `from`. */
export function sync(from: ElectoralSystemModel, to: ElectoralSystemModel): void {
  to.applyChanges(from.getDelta(to.version));
}

/** An open election with two candidates and two registered voters, on `model`. */
export function openElection(model: ElectoralSystemModel) {
  const election = model.createElection({ title: 'Board', opensAt: '2024-05-01', closesAt: '2024-05-02' });
  const ann = model.addCandidate(election.oid, { name: 'Ann', party: 'Blue' });
  const ben = model.addCandidate(election.oid, { name: 'Ben' });
  const vera = model.registerVoter({ name: 'Vera', voterNumber: 'V-1' });
  const walt = model.registerVoter({ name: 'Walt', voterNumber: 'V-2' });
  model.registerForElection(vera.oid, election.oid);
  model.registerForElection(walt.oid, election.oid);
  model.openElection(election.oid);
  return { election: election.oid, ann: ann.oid, ben: ben.oid, vera: vera.oid, walt: walt.oid };
}
