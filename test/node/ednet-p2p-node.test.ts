import { expect } from 'chai';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { asNodeId } from '../../src/crdt/dot.js';
import { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import type { NodeStatus } from '../../src/node/node-events.js';

const MODEL = 'election-2024';
const ROOM = 'room-a';

interface Peer {
  readonly node: EDNetP2PNode;
  readonly model: ElectoralSystemModel;
}

function peer(network: MemoryNetwork, name: string, displayName: string | null = null): Peer {
  const id = asNodeId(name);
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
  const node = new EDNetP2PNode({
    nodeId: id,
    transports: [new MemoryTransport(network, id)],
    discoveries: [new MemoryDiscovery(network, { room: ROOM, nodeId: id })],
    displayName,
    backoff: { initialMs: 20, maxMs: 200 },
    followBrowserOnline: false,
  });
  node.registerDomainModel(MODEL, model);
  return { node, model };
}

/**
 * Resolves once `predicate` holds for the node's status, checked on every status change and every
 * model change (a predicate may also look at the model).
 */
function statusWhere(node: EDNetP2PNode, predicate: (status: NodeStatus) => boolean): Promise<NodeStatus> {
  if (predicate(node.status)) return Promise.resolve(node.status);
  return new Promise((resolve) => {
    const check = (): void => {
      if (!predicate(node.status)) return;
      offStatus();
      offModel();
      resolve(node.status);
    };
    const offStatus = node.events.on('status-changed', check);
    const offModel = node.events.on('model-changed', () => queueMicrotask(check));
  });
}

const inSyncWith = (count: number) => (status: NodeStatus) =>
  status.peers.length === count && status.peers.every((p) => p.inSync);

const tally = (model: ElectoralSystemModel, election: string) => JSON.stringify(model.tally(election));

describe('EDNetP2PNode', () => {
  let network: MemoryNetwork;
  let peers: Peer[];

  beforeEach(() => {
    network = new MemoryNetwork();
    peers = [];
  });

  afterEach(async () => {
    await Promise.all(peers.map((p) => p.node.stop()));
    network.close();
  });

  async function startPeers(...ids: string[]): Promise<Peer[]> {
    const started = ids.map((id) => peer(network, id, `name of ${id}`));
    peers.push(...started);
    await Promise.all(started.map((p) => p.node.start()));
    return started;
  }

  it('finds the peers of its room, connects and reports each as in sync', async () => {
    const [a, b, c] = await startPeers('node-a', 'node-b', 'node-c');
    for (const p of [a!, b!, c!]) await statusWhere(p.node, inSyncWith(2));
    const status = a!.node.status;
    expect(status.peers.map((p) => p.peerId).sort()).to.deep.equal(['node-b', 'node-c']);
    expect(status.peers.find((p) => p.peerId === 'node-b')!.displayName).to.equal('name of node-b');
    expect(status).to.include({ online: true });
    expect(status.signaling).to.equal('off');
  });

  it('converges three nodes that edit concurrently, and says when it is in sync', async () => {
    const [a, b, c] = await startPeers('node-a', 'node-b', 'node-c');
    await statusWhere(a!.node, inSyncWith(2));
    const election = a!.model.createElection({ title: 'Board' });
    const ann = a!.model.addCandidate(election.oid, { name: 'Ann' });
    await statusWhere(c!.node, (s) => inSyncWith(2)(s) && c!.model.get(ann.oid) !== undefined);
    const vera = b!.model.registerVoter({ name: 'Vera', voterNumber: 'V-1' });
    const walt = c!.model.registerVoter({ name: 'Walt', voterNumber: 'V-2' });
    c!.model.update(election.oid, { title: 'Board of C' });
    b!.model.update(election.oid, { title: 'Board of B' });
    for (const p of [a!, b!, c!]) await statusWhere(p.node, (s) => inSyncWith(2)(s) && p.model.get(vera.oid) !== undefined && p.model.get(walt.oid) !== undefined);
    const versions = [a!, b!, c!].map((p) => JSON.stringify(p.model.version.toJSON()));
    expect(new Set(versions).size).to.equal(1);
    const titles = [a!, b!, c!].map((p) => p.model.get(election.oid)!.getAttribute('title'));
    expect(new Set(titles).size).to.equal(1);
    expect(a!.model.conflicts.length).to.equal(1);
    expect(tally(a!.model, election.oid)).to.equal(tally(c!.model, election.oid));
  });

  it('emits the seed events: model and attribute changes, conflicts', async () => {
    const [a, b] = await startPeers('node-a', 'node-b');
    await statusWhere(a!.node, inSyncWith(1));
    const changed: string[] = [];
    const attributes: string[] = [];
    b!.node.events.on('model-changed', (event) => changed.push(event.origin));
    b!.node.events.on('entity-attribute-changed', (event) => attributes.push(`${event.attributeName}=${String(event.newValue)}`));
    const conflicts = b!.node.events.once('conflict-detected');
    const election = a!.model.createElection({ title: 'First' });
    await statusWhere(b!.node, () => b!.model.get(election.oid) !== undefined);
    expect(changed).to.include('remote');
    expect(attributes).to.include('title=First');
    // Concurrent writes: cut the link, write on both sides, heal.
    network.partition([asNodeId('node-a')], [asNodeId('node-b')]);
    await statusWhere(a!.node, (s) => s.peers.length === 0);
    a!.model.update(election.oid, { title: 'From A' });
    b!.model.update(election.oid, { title: 'From B' });
    network.heal();
    await statusWhere(a!.node, inSyncWith(1));
    const event = await conflicts;
    expect(event.modelId).to.equal(MODEL);
    expect(event.conflicts[0]!.attribute).to.equal('title');
  });

  it('counts unsent local changes until a peer confirms them, and never counts a peer\'s changes', async () => {
    const [a] = await startPeers('node-a');
    a!.model.createElection({ title: 'Alone' });
    a!.model.registerVoter({ name: 'Vera', voterNumber: 'V-1' });
    const alone = await statusWhere(a!.node, (s) => s.unsentChanges > 0);
    // Two things the user did (an election, a voter), over many attribute writes.
    expect(alone.unsentEdits, 'edits').to.equal(2);
    expect(alone.unsentChanges, 'changes').to.be.greaterThan(2);
    const [b] = await startPeers('node-b');
    expect((await statusWhere(a!.node, (s) => inSyncWith(1)(s) && s.unsentChanges === 0)).unsentEdits).to.equal(0);
    expect((await statusWhere(b!.node, inSyncWith(1))).unsentChanges).to.equal(0);
  });

  it('working offline closes every connection, keeps editing, and sends the edits on return', async () => {
    const [a, b] = await startPeers('node-a', 'node-b');
    await statusWhere(a!.node, inSyncWith(1));
    await a!.node.setWorkOffline(true);
    const offline = await statusWhere(a!.node, (s) => !s.online && s.peers.length === 0);
    expect(offline).to.include({ online: false });
    await statusWhere(b!.node, (s) => s.peers.length === 0);
    const election = a!.model.createElection({ title: 'Offline' });
    // A peer that tries anyway is refused before any sync message: b sees the connection end
    // and holds nothing of a's (no waiting for something not to happen).
    const ended = new Promise<string | undefined>((resolve) =>
      b!.node.connections.onStateChange((event) => {
        if (event.peerId === a!.node.nodeId && (event.state === 'closed' || event.state === 'failed')) resolve(event.reason);
      }),
    );
    await b!.node.connectToPeer({ nodeId: a!.node.nodeId, via: 'memory' });
    expect(await ended, 'why b lost a').to.be.a('string');
    expect(a!.node.status.peers, 'a connected while offline').to.deep.equal([]);
    expect(b!.model.get(election.oid)).to.equal(undefined);
    expect(a!.node.status.unsentChanges).to.be.greaterThan(0);
    await a!.node.setWorkOffline(false);
    await statusWhere(b!.node, (s) => inSyncWith(1)(s) && b!.model.get(election.oid) !== undefined);
    expect(b!.model.get(election.oid)!.getAttribute('title')).to.equal('Offline');
  });

  it('tells peers a new display name', async () => {
    const [a, b] = await startPeers('node-a', 'node-b');
    await statusWhere(b!.node, inSyncWith(1));
    a!.node.setDisplayName('  Alice  ');
    expect(a!.node.displayName).to.equal('Alice');
    const status = await statusWhere(b!.node, (s) => s.peers[0]?.displayName === 'Alice');
    expect(status.peers[0]!.peerId).to.equal('node-a');
    expect(() => a!.node.setDisplayName('x'.repeat(65))).to.throw(RangeError);
    expect(a!.node.displayName).to.equal('Alice');
  });

  it('synchronizeModel reports the peers and that they are in sync', async () => {
    const [a] = await startPeers('node-a', 'node-b');
    await statusWhere(a!.node, inSyncWith(1));
    a!.model.createElection({ title: 'Sync me' });
    const result = await a!.node.synchronizeModel(MODEL, 5000);
    expect(result.peers).to.equal(1);
    expect(result.inSyncPeers).to.equal(1);
    expect(result.messagesSent).to.be.greaterThan(0);
  });

  it('lists what it refused from a peer, with the reason, next to that peer', async () => {
    const [a] = await startPeers('node-a');
    const mallory = new MemoryTransport(network, asNodeId('mallory'));
    const connection = await mallory.connect(asNodeId('node-a'));
    const send = (value: unknown) => connection.send(new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)));
    await send({ t: 'hello', protocols: [1], node: 'mallory', models: {} });
    await statusWhere(a!.node, (s) => s.peers.some((p) => p.peerId === 'mallory'));
    await send('not json at all');
    const status = await statusWhere(a!.node, (s) => s.peers.some((p) => p.refused === 1));
    const peer = status.peers.find((p) => p.peerId === 'mallory')!;
    expect(peer.lastRefusal).to.match(/JSON/);
    expect(a!.model.version.toJSON()).to.deep.equal({});
    // The refusal is also kept for the audit view, with when and from whom.
    expect(a!.node.refusals).to.have.length(1);
    expect(a!.node.refusals[0]).to.include({ peerId: 'mallory', peerName: null });
    expect(a!.node.refusals[0]!.reason).to.match(/JSON/);
    expect(a!.node.refusals[0]!.at).to.be.closeTo(Date.now(), 60_000);
  });

  it('refuses a second model with the same id and leaves the first registered', async () => {
    const [a] = await startPeers('node-a');
    const other = new ElectoralSystemModel({ modelId: MODEL, nodeId: asNodeId('node-a'), roles: 'open' });
    expect(() => a!.node.registerDomainModel(MODEL, other)).to.throw(/already registered/);
    expect(a!.node.registry.get(MODEL)).to.equal(a!.model);
  });
});
