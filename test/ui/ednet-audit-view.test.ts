import { setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import { type Dot, type NodeId, asNodeId } from '../../src/crdt/dot.js';
import type { ModelChange } from '../../src/domain/index.js';
import { ElectionRoles, ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { MemoryDiscovery } from '../../src/net/memory-discovery.js';
import { MemoryNetwork } from '../../src/net/memory-network.js';
import { MemoryTransport } from '../../src/net/memory-transport.js';
import { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import { EventBus } from '../../src/node/event-bus.js';
import { ItemSignatures } from '../../src/node/item-signatures.js';
import type { EDNetEvents, NodeStatus } from '../../src/node/node-events.js';
import { CertificateStore } from '../../src/security/certificate-store.js';
import { certificateSignedBytes, encodeCertificate } from '../../src/security/change-certificate.js';
import { ITEM_HASH_BYTES, forEachItem } from '../../src/security/change-items.js';
import { toBase64Url } from '../../src/util/base64url.js';
import { DeviceIdentity } from '../../src/security/device-identity.js';
import type { AuditNode } from '../../src/ui/audit/audit-node-controller.js';
import '../../src/ui/audit/ednet-audit-view.js';
import type { EdnetAuditView } from '../../src/ui/audit/ednet-audit-view.js';
import { fakeClock } from '../crdt/fake-clock.js';
import { electoral, nodeOf } from '../models/electoral/electoral-fixture.js';
import { axeViolations, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';
import { testIdentities } from '../security/test-identities.js';
import { eventually as until } from '../eventually.js';

const MODEL = 'election-2024';
const ROOM = 'audit-room';
const quiet = { warn: () => {} };
const MARKUP_NAME = '<img src=x onerror="window.audited=1">Bob';
const MARKUP_PEER = '<i>Mallory</i>';

interface Device {
  readonly id: NodeId;
  readonly model: ElectoralSystemModel;
  readonly node: EDNetP2PNode;
  readonly clock: ReturnType<typeof fakeClock>;
}

/** A room device: a real node signing its changes with its device key, on the memory network. */
async function device(network: MemoryNetwork, identity: DeviceIdentity, displayName: string): Promise<Device> {
  const id = asNodeId(identity.newNodeId());
  const clock = fakeClock(Date.now());
  const model = new ElectoralSystemModel({ modelId: MODEL, nodeId: id, getNow: clock.now });
  const node = new EDNetP2PNode({
    nodeId: id,
    transports: [new MemoryTransport(network, id, { logger: quiet })],
    discoveries: [new MemoryDiscovery(network, { room: ROOM, nodeId: id })],
    displayName,
    backoff: { initialMs: 20, maxMs: 200 },
    followBrowserOnline: false,
    logger: quiet,
    sync: { signer: identity },
  });
  node.registerDomainModel(MODEL, model);
  await node.start();
  return { id, model, node, clock };
}

/** Waits until `condition` holds (sync, signing and verification are asynchronous); the test timeout bounds it. */
const snapshot = (device: Device) => JSON.stringify(device.model.getSnapshot());
const entries = (view: EdnetAuditView) => findAll(view, [], 'ol.activity li').map((li) => textOf(li));
const refused = (view: EdnetAuditView) => findAll(view, [], '[aria-labelledby="refused-heading"] li').map((li) => textOf(li));

/** The one entry whose text contains `what`. */
function entry(view: EdnetAuditView, what: string): string {
  const found = entries(view).filter((text) => text.includes(what));
  expect(found, `entries with ${what}: ${entries(view).join(' | ')}`).to.have.length(1);
  return found[0]!;
}

/** A sync-protocol speaker that is no node: says hello to `target`, then sends any frame. */
async function rawPeer(network: MemoryNetwork, id: NodeId, target: NodeId, name: string) {
  const transport = new MemoryTransport(network, id, { logger: quiet });
  const connection = await transport.connect(target);
  const send = (frame: unknown) => connection.send(new TextEncoder().encode(JSON.stringify(frame)));
  await send({ t: 'hello', protocols: [1], node: id, name, models: { [MODEL]: {} } });
  return { send };
}

/** The one item of `change`, hashed as certificates list it. */
function hashOf(change: ModelChange): Uint8Array {
  let hash = new Uint8Array();
  forEachItem(change, (_dot, itemHash) => (hash = itemHash.slice()));
  return hash;
}

describe('ednet-audit-view', () => {
  const identities = testIdentities('audit-view', ['alice', 'bob', 'mallory']);
  let network: MemoryNetwork;
  let devices: Device[];

  beforeEach(() => {
    network = new MemoryNetwork();
    devices = [];
  });
  afterEach(async () => {
    unmountAll();
    await Promise.all(devices.map((d) => d.node.stop()));
    network.close();
    await setViewport({ width: 1024, height: 768 });
  });

  it('lists who did what in an election, with valid signatures; a late ballot with its reason; refused input; names as text', async () => {
    const alice = await device(network, identities[0]!, 'Alice');
    const bob = await device(network, identities[1]!, `${MARKUP_PEER} phone`);
    devices.push(alice, bob);
    await until(() => alice.node.status.peers.length === 1 && bob.node.status.peers.length === 1);

    const election = alice.model.createElection({ title: 'Mayor' }).oid;
    alice.model.addCandidate(election, { name: 'Ada', party: 'Blue' });
    await until(() => bob.model.get(election) !== undefined && bob.model.candidates(election).count === 1);
    const voter = bob.model.registerVoter({ name: MARKUP_NAME, voterNumber: 'V-1' }).oid;
    bob.model.registerForElection(voter, election);
    await until(() => alice.model.get(voter)?.childOids('elections').includes(election) === true);
    alice.model.approveVoter(election, voter);
    alice.model.openElection(election);
    await until(() => bob.model.get(election) !== undefined && bob.model.statusOf(election) === 'open' && bob.model.isApproved(election, voter));

    // Bob votes offline after alice closed voting: the ballot reaches alice late and does not count.
    await bob.node.setWorkOffline(true);
    alice.clock.advance(60_000);
    alice.model.closeElection(election);
    bob.clock.advance(120_000);
    const ada = bob.model.candidates(election).first()!.oid;
    bob.model.castBallot({ voterId: voter, electionId: election, candidateId: ada });
    alice.clock.advance(120_000);

    const view = await mount('ednet-audit-view', { model: alice.model, node: alice.node });
    await bob.node.setWorkOffline(false);
    await until(() => snapshot(alice) === snapshot(bob) && alice.model.tally(election).ballots.length === 1);
    // Own writes are signed a moment after they are made.
    await until(() => !textOf(view).includes('being signed'));
    await settle();

    const text = textOf(view);
    expect(find<HTMLSelectElement>(view, '#audit-election').value).to.equal(election);
    expect(entry(view, 'Created the election “Mayor”')).to.contain('this device (organiser)');
    expect(entry(view, 'Added candidate “Ada” (“Blue”)')).to.contain('this device (organiser)');
    expect(entry(view, `Approved voter “${MARKUP_NAME}”`)).to.contain('this device (organiser)');
    expect(entry(view, 'Opened voting')).to.contain('this device (organiser)');
    expect(entry(view, 'Closed voting')).to.contain('this device (organiser)');
    const bobDevice = `device ${bob.id.slice(0, 8)}…`;
    for (const what of [`Created voter “${MARKUP_NAME}” (number “V-1”)`, `Registered “${MARKUP_NAME}” for this election`, `Cast a ballot as voter “${MARKUP_NAME}”`]) {
      const line = entry(view, what);
      expect(line).to.contain(`by voter “${MARKUP_NAME}”`);
      expect(line).to.contain(`${bobDevice}, “${MARKUP_PEER} phone”`);
    }
    // An add carries no clock reading: its time is bounded by the author's write before it.
    expect(entry(view, 'Registered “')).to.match(/^after /);
    expect(entries(view)).to.have.length(8);
    for (const line of entries(view)) expect(line).to.match(/valid signature$/);
    expect(entries(view)[0]).to.contain('Cast a ballot');

    const uncounted = textOf(find(view, '[aria-labelledby="uncounted-heading"]'));
    expect(uncounted).to.contain('Ballots not counted (1)');
    expect(uncounted, uncounted).to.contain(`Cast after voting closed: ballot of voter “${MARKUP_NAME}”`);
    expect(uncounted).to.match(/the closing device had not received it when it closed voting, whatever time it claims/);

    // A member writing the organiser's election, with a genuine signature of its own: refused by the rules.
    const malloryId = asNodeId(identities[2]!.newNodeId());
    const mallory = await rawPeer(network, malloryId, alice.id, MARKUP_PEER);
    await until(() => alice.node.sync.peerStatus().some((peer) => peer.peerId === malloryId && peer.ready));
    const dot: Dot = { node: malloryId, seq: 1 };
    const change: ModelChange = { kind: 'attribute', entityType: 'Election', oid: election, attribute: 'title', writes: [{ value: 'Hacked', ts: { ms: alice.clock.now(), c: 0 }, dot }] };
    const unsigned = { node: malloryId, publicKey: identities[2]!.publicKey, seqs: [1], hashes: hashOf(change) };
    expect(unsigned.hashes).to.have.length(ITEM_HASH_BYTES);
    const signature = await identities[2]!.sign(certificateSignedBytes(MODEL, unsigned));
    const batch = { format: 1, modelId: MODEL, since: {}, version: { [malloryId]: 1 }, changes: [change] };
    await mallory.send({ t: 'delta', seq: 1, part: 1, parts: 1, batch, certs: [toBase64Url(encodeCertificate({ ...unsigned, signature }))] });
    // Another change, without a certificate.
    const bare: ModelChange = { ...change, writes: [{ ...change.writes[0]!, value: 'Unsigned', dot: { node: malloryId, seq: 2 } }] };
    await mallory.send({ t: 'delta', seq: 2, part: 1, parts: 1, batch: { ...batch, version: { [malloryId]: 2 }, changes: [bare] }, certs: [] });
    // The unsigned delta is refused twice over: no certificate, and a version claiming an
    // operation its author never signed.
    await until(() => refused(view).some((line) => /has no certificate/.test(line)) && refused(view).some((line) => /rejected/.test(line)));
    const unsignedRefusal = refused(view).find((line) => /has no certificate/.test(line))!;
    const rulesRefusal = refused(view).find((line) => /rejected/.test(line))!;
    expect(refused(view).filter((line) => !/has no certificate|rejected|signed none past/.test(line))).to.deep.equal([]);
    expect(rulesRefusal).to.contain(`“${MARKUP_PEER}”`);
    expect(rulesRefusal).to.match(/1 change\(s\) rejected: only the organiser's device .* may change Election/);
    expect(unsignedRefusal).to.match(/has no certificate/);
    expect(text).to.contain('Only what reached this device');
    expect(alice.model.get(election)!.getAttribute('title')).to.equal('Mayor');

    // Markup from peers stays text.
    expect(view.shadowRoot!.querySelector('img, i, b')).to.equal(null);
    expect((window as { audited?: number }).audited).to.equal(undefined);
    expect(await axeViolations(view)).to.deep.equal([]);
  });

  it('tells a valid signature from an invalid one and from a missing certificate', async () => {
    const model = electoral(nodeOf('carol'), fakeClock(), ElectionRoles.enforced);
    const election = model.createElection({ title: 'Treasurer' }).oid;
    model.addCandidate(election, { name: 'Ann' });
    const store = new CertificateStore();
    const certify = (change: ModelChange, hash?: Uint8Array) => {
      forEachItem(change, (dot, itemHash) =>
        store.add([{ node: dot.node, publicKey: new Uint8Array(32), seqs: [dot.seq], hashes: hash ?? itemHash.slice(), signature: new Uint8Array(64) }]),
      );
    };
    const state = model.get(election)!.toState();
    // The election's creation: title signed as written, status under a certificate listing another hash.
    certify({ kind: 'attribute', entityType: 'Election', oid: election, attribute: 'title', writes: state.attributes['title']! });
    certify({ kind: 'attribute', entityType: 'Election', oid: election, attribute: 'status', writes: state.attributes['status']! }, new Uint8Array(ITEM_HASH_BYTES));
    const node = fakeNode(store);
    const view = await mount('ednet-audit-view', { model, node });
    expect(entries(view)).to.deep.equal([
      `${timeOf(model, election)} by this device (organiser) Added candidate “Ann” no certificate`,
      `${timeOf(model, election)} by this device (organiser) Created the election “Treasurer” signature invalid`,
    ]);
    expect(find(view, '.sig.invalid').textContent).to.equal('signature invalid');
    // Now with every item certified as written.
    const all = new CertificateStore();
    for (const entity of [model.get(election)!, model.candidates(election).first()!]) {
      const { entityType, oid, attributes, children } = entity.toState();
      const changes: ModelChange[] = Object.entries(attributes).map(([attribute, writes]) => ({ kind: 'attribute', entityType, oid, attribute, writes }));
      for (const [relation, items] of Object.entries(children)) changes.push({ kind: 'children', entityType, oid, relation, items });
      for (const change of changes)
        forEachItem(change, (dot, hash) => all.add([{ node: dot.node, publicKey: new Uint8Array(32), seqs: [dot.seq], hashes: hash.slice(), signature: new Uint8Array(64) }]));
    }
    view.node = fakeNode(all);
    await settle();
    expect(entries(view).map((line) => line.replace(/.* /, ''))).to.deep.equal(['signature', 'signature']);
    expect(findAll(view, [], '.sig.valid')).to.have.length(2);
  });

  it('caps the activity at 500 entries and shows more on request; fits a 360 px screen', async () => {
    const model = electoral(nodeOf('dave'), fakeClock(), ElectionRoles.enforced);
    const election = model.createElection({ title: 'Board' }).oid;
    for (let i = 0; i < 520; i++) model.addCandidate(election, { name: `Candidate ${i}` });
    const view = await mount('ednet-audit-view', { model });
    expect(entries(view)).to.have.length(500);
    expect(textOf(view)).to.contain('Showing 500 of 521.');
    expect(entries(view)[0]).to.contain('Added candidate “Candidate 519”');
    expect(textOf(view)).to.contain('Not connected to a node.');
    findAll<HTMLButtonElement>(view, [], 'button').find((b) => b.textContent!.includes('Show 500 more'))!.click();
    await settle();
    expect(entries(view)).to.have.length(521);
    expect(entries(view)[520]).to.contain('Created the election “Board”');
    await setViewport({ width: 360, height: 800 });
    await settle();
    expect(document.documentElement.scrollWidth).to.be.at.most(360);
  });

  it('keeps the writes of one operation in one entry when the clock ticks during it, and separates later ones', async () => {
    let now = Date.UTC(2024, 4, 1, 8);
    const ticking = { now: () => now++, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
    const model = electoral(nodeOf('fay'), ticking, ElectionRoles.enforced);
    const election = model.createElection({ title: 'Ticking', description: 'Every reading of the clock moves it on.' }).oid;
    model.addCandidate(election, { name: 'Ann', party: 'Blue', statement: 'Steady.' });
    ticking.advance(60_000);
    model.update(model.candidates(election).first()!.oid, { statement: 'Steadier.' });
    const view = await mount('ednet-audit-view', { model });
    expect(entries(view).map((line) => line.replace(/^.* by this device \(organiser\) /, '')), entries(view).join(' | ')).to.deep.equal([
      'Set statement to “Steadier.” of candidate “Ann” not signed',
      'Added candidate “Ann” (“Blue”) not signed',
      'Created the election “Ticking” not signed',
    ]);
  });

  it('follows the chosen election', async () => {
    const model = electoral(nodeOf('erin'), fakeClock(), ElectionRoles.enforced);
    const first = model.createElection({ title: 'First' }).oid;
    const second = model.createElection({ title: 'Second' }).oid;
    model.addCandidate(second, { name: 'Zed' });
    const view = await mount('ednet-audit-view', { model });
    expect(find<HTMLSelectElement>(view, '#audit-election').value).to.equal(first);
    expect(entries(view)).to.have.length(1);
    const select = find<HTMLSelectElement>(view, '#audit-election');
    select.value = second;
    select.dispatchEvent(new Event('change'));
    await settle();
    expect(entries(view).map((line) => line.replace(/^.* by this device \(organiser\) /, ''))).to.deep.equal(['Added candidate “Zed” not signed', 'Created the election “Second” not signed']);
    model.delete(second);
    await settle();
    expect(textOf(view)).to.contain('The election is deleted: there is no count.');
    expect(entries(view)[0], entries(view).join(' | ')).to.contain('Deleted the election “Second”');
  });
});

/** A node double around a certificate store, for signature states no honest peer can produce. */
function fakeNode(store: CertificateStore): AuditNode {
  const status = { peers: [] } as unknown as NodeStatus;
  return {
    refusals: [],
    status,
    events: new EventBus<EDNetEvents>(),
    signatures: () => new ItemSignatures(store, () => false),
  };
}

function timeOf(model: ElectoralSystemModel, oid: string): string {
  return new Date(model.get(oid)!.toState().attributes['title']![0]!.ts.ms).toLocaleString();
}
