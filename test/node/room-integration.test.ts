import { expect } from 'chai';
import type { OpenRoomSessionOptions } from '../../src/app/open-room-session.js';
import type { RoomSession } from '../../src/app/room-session.js';
import { ServerBasedDiscovery } from '../../src/net/server-based-discovery.js';
import { DeviceIdentity, EncryptedSignalingChannel, deriveRoomKeys, signalingProof } from '../../src/security/index.js';
import { eventually, uniqueRoom } from '../net/net-test-helpers.js';
import { privateSignalingServer, signalingServerUrl } from '../net/signaling-server-url.js';
import type { RoomPage } from './room-page.js';
import { IndexedDbDeviceKeyStore } from '../../src/store/indexeddb-device-key-store.js';

interface Page {
  readonly frame: HTMLIFrameElement;
  readonly session: RoomSession;
}

const frames: HTMLIFrameElement[] = [];
/** A room secret as links carry it (base64url of 32 random bytes). */
const SECRET = 'q5mXb7V0yJ4kR2dT8wL1nC6hF3sA9eG0uP4zK7iM2oQ';

/** Opens a same-origin iframe running one room session; resolves once it is open. */
async function openPage(roomId: string, options: OpenRoomSessionOptions, secret = SECRET): Promise<Page> {
  const frame = document.createElement('iframe');
  frames.push(frame);
  const ready = new Promise<void>((resolve, reject) => {
    const listen = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow) return;
      if (event.data?.type === 'room-page-failed') reject(new Error(`the page could not open the room: ${event.data.message}`));
      else if (event.data?.type !== 'room-page-ready') return;
      window.removeEventListener('message', listen);
      resolve();
    };
    window.addEventListener('message', listen);
  });
  const module = new URL('./room-page.ts', import.meta.url).pathname;
  frame.srcdoc = `<script type="module">import { startRoomPage } from '${module}'; startRoomPage(${JSON.stringify(roomId)}, ${JSON.stringify(secret)}, ${JSON.stringify(options)});</script>`;
  document.body.append(frame);
  await ready;
  const { session } = (frame.contentWindow as unknown as { roomPage: RoomPage }).roomPage;
  return { frame, session };
}

const roomId = (): string => uniqueRoom().replace('room-', 'r');

/** Every page lists every other page as a connected peer it is in sync with. */
const allInSync = (pages: readonly Page[]) => () =>
  pages.every((page) => page.session.status.peers.length === pages.length - 1 && page.session.status.peers.every((peer) => peer.inSync));

const versionOf = (page: Page) => JSON.stringify(page.session.model.version.toJSON());
const tallyOf = (page: Page, election: string) => JSON.stringify(page.session.model.tally(election));

/** Bytes this page sent to and received from its peers over the current connections. */
const trafficOf = (page: Page) =>
  page.session.node.sync.peerStatus().reduce((sum, peer) => sum + peer.counters.bytesSent + peer.counters.bytesReceived, 0);

describe('rooms across pages', function () {
  this.timeout(60_000);

  afterEach(async () => {
    for (const frame of frames.splice(0)) {
      const page = (frame.contentWindow as unknown as { roomPage?: RoomPage } | null)?.roomPage;
      await page?.session.close();
      frame.remove();
    }
  });

  it('three pages joined through the real signaling server over WebRTC edit concurrently and converge', async () => {
    const url = await signalingServerUrl();
    const room = roomId();
    const options: OpenRoomSessionOptions = { signalingUrl: url, localTabs: false, iceServers: [] };
    const pages = await Promise.all([openPage(room, options), openPage(room, options), openPage(room, options)]);
    const [a, b, c] = pages as [Page, Page, Page];
    await eventually(allInSync(pages));
    for (const page of pages) for (const peer of page.session.status.peers) expect(peer.via).to.equal('webrtc');

    const election = a.session.model.createElection({ title: 'Board' });
    const ann = a.session.model.addCandidate(election.oid, { name: 'Ann' });
    const ben = a.session.model.addCandidate(election.oid, { name: 'Ben' });
    await eventually(() => c.session.model.get(ben.oid) !== undefined && b.session.model.get(ben.oid) !== undefined);
    // Each page registers its own voters at the same time.
    const voters = pages.map((page, index) =>
      [0, 1].map((n) => {
        const voter = page.session.model.registerVoter({ name: `Voter ${index}.${n}`, voterNumber: `V-${index}-${n}` });
        page.session.model.registerForElection(voter.oid, election.oid);
        return voter.oid;
      }),
    );
    await eventually(() => pages.every((page) => voters.flat().every((oid) => page.session.model.get(oid) !== undefined)));
    // The organiser approves them (the pages share one device here, so each votes as its own voters).
    for (const oid of voters.flat()) a.session.model.approveVoter(election.oid, oid);
    a.session.model.openElection(election.oid);
    await eventually(() =>
      pages.every(
        (page) =>
          page.session.model.statusOf(election.oid) === 'open' &&
          voters.flat().every((oid) => page.session.model.isApproved(election.oid, oid)),
      ),
    );
    // Ballots cast on every page at once, and a concurrent edit of the same attribute.
    pages.forEach((page, index) =>
      voters[index]!.forEach((voterId, n) =>
        page.session.model.castBallot({ voterId, electionId: election.oid, candidateId: n === 0 ? ann.oid : ben.oid }),
      ),
    );
    b.session.model.update(election.oid, { title: 'Board (B)' });
    c.session.model.update(election.oid, { title: 'Board (C)' });
    await eventually(() => allInSync(pages)() && new Set(pages.map(versionOf)).size === 1);

    expect(new Set(pages.map((page) => tallyOf(page, election.oid))).size).to.equal(1);
    expect(new Set(pages.map((page) => page.session.model.get(election.oid)!.getAttribute('title'))).size).to.equal(1);
    expect(a.session.model.ballots(election.oid).count).to.equal(6);
    // The concurrent title edits are kept as a conflict on every page, not silently dropped.
    for (const page of pages) expect(page.session.model.conflicts.map((conflict) => conflict.attribute)).to.include('title');
  });

  it('a partitioned page and the rest edit, heal, converge; the bytes at heal depend on the edits, not the model size', async () => {
    const url = await signalingServerUrl();
    const room = roomId();
    const options: OpenRoomSessionOptions = { signalingUrl: url, localTabs: false, iceServers: [] };
    const pages = await Promise.all([openPage(room, options), openPage(room, options)]);
    const [a, b] = pages as [Page, Page];
    await eventually(allInSync(pages));
    // A large model, synced before the partition.
    const voters: string[] = [];
    for (let i = 0; i < 2000; i++) voters.push(a.session.model.registerVoter({ name: `Voter ${i}`, voterNumber: `N-${i}` }).oid);
    await eventually(() => allInSync(pages)() && b.session.model.get(voters[1999]!) !== undefined);
    const snapshotBytes = JSON.stringify(a.session.model.getSnapshot()).length;

    // The partition: page b works offline, which closes its WebRTC connections and leaves the
    // signaling server (an open data channel would otherwise keep delivering).
    b.session.setWorkOffline(true);
    await eventually(() => a.session.status.peers.length === 0 && b.session.status.peers.length === 0);
    for (let i = 0; i < 10; i++) a.session.model.update(voters[i]!, { name: `A renamed ${i}` });
    for (let i = 0; i < 10; i++) b.session.model.update(voters[100 + i]!, { name: `B renamed ${i}` });
    b.session.model.update(voters[0]!, { name: 'B renamed 0 too' });
    await eventually(() => b.session.status.unsentChanges === 11);

    b.session.setWorkOffline(false);
    await eventually(() => allInSync(pages)() && versionOf(a) === versionOf(b));
    const healBytes = trafficOf(a);
    expect(a.session.model.get(voters[105]!)!.getAttribute('name')).to.equal('B renamed 5');
    expect(b.session.model.get(voters[5]!)!.getAttribute('name')).to.equal('A renamed 5');
    expect(a.session.model.get(voters[0]!)!.getAttribute('name')).to.equal(b.session.model.get(voters[0]!)!.getAttribute('name'));
    expect(b.session.status.unsentChanges).to.equal(0);
    // 21 edits cost a few kilobytes, against a model of several hundred.
    expect(snapshotBytes).to.be.greaterThan(200_000);
    expect(healBytes).to.be.lessThan(snapshotBytes / 20);
  });

  it('two tabs with the signaling server stopped still sync over BroadcastChannel', async () => {
    const server = await privateSignalingServer();
    await server.stop();
    const room = roomId();
    const options: OpenRoomSessionOptions = { signalingUrl: server.url, iceServers: [] };
    const pages = await Promise.all([openPage(room, options), openPage(room, options)]);
    const [a, b] = pages as [Page, Page];
    await eventually(allInSync(pages));
    expect(a.session.status.signaling).to.not.equal('connected');
    expect(a.session.status.peers[0]!.via).to.equal('broadcast');
    const election = b.session.model.createElection({ title: 'No server' });
    await eventually(() => a.session.model.get(election.oid) !== undefined);
    expect(a.session.model.get(election.oid)!.getAttribute('title')).to.equal('No server');
  });

  for (const localTabs of [false, true]) {
    it(`a page with another room key meets nobody, and the members hear nothing of it (${localTabs ? 'tabs of one browser' : 'WebRTC through the server'})`, async () => {
      const url = await signalingServerUrl();
      const room = roomId();
      const options: OpenRoomSessionOptions = { signalingUrl: url, localTabs, iceServers: [] };
      const a = await openPage(room, options);
      a.session.model.createElection({ title: 'Members only' });
      // Its topic is derived from its key: it waits in a topic of its own.
      const outsider = await openPage(room, options, 'Zz9mXb7V0yJ4kR2dT8wL1nC6hF3sA9eG0uP4zK7iM2o');
      await eventually(() => outsider.session.status.signaling === 'connected');
      // A member arriving after it meets the first member and syncs: the outsider was there all along.
      const b = await openPage(room, options);
      await eventually(() => b.session.model.elections().count === 1 && a.session.status.peers.length === 1);
      expect(a.session.status.peers.map((peer) => peer.peerId)).to.deep.equal([b.session.node.nodeId]);
      expect(a.session.status.roomKeyProblem).to.equal(null);
      expect(b.session.status.roomKeyProblem).to.equal(null);
      expect(outsider.session.status.peers).to.deep.equal([]);
      expect(outsider.session.model.elections().count).to.equal(0);
      // The outsider never held the room: its page keeps looking (ednet-room-arrival), the members hold it.
      expect(outsider.session.held, 'the outsider holds the room').to.equal(false);
      expect([a.session.held, b.session.held]).to.deep.equal([true, true]);
    });
  }

  it('a device that never held the room holds it from its first peer on', async () => {
    const url = await signalingServerUrl();
    const room = roomId();
    const options: OpenRoomSessionOptions = { signalingUrl: url, localTabs: false, iceServers: [] };
    const a = await openPage(room, options);
    await eventually(() => a.session.status.signaling === 'connected');
    expect(a.session.held, 'a device alone holds the room').to.equal(false);
    const b = await openPage(room, options);
    await eventually(() => a.session.held === true && b.session.held === true);
    expect(a.session.status.peers.length).to.equal(1);
  });

  it('someone under the room’s topic without its key (the server, say) leaves one neutral Audit line, no alert', async () => {
    const url = await signalingServerUrl();
    const room = roomId();
    const a = await openPage(room, { signalingUrl: url, localTabs: false, iceServers: [] });
    await eventually(() => a.session.status.signaling === 'connected');
    // It knows the topic but seals with another key, as a rotated-away key or a forging server would.
    const topic = (await deriveRoomKeys(room, SECRET)).topic;
    const otherKeys = await deriveRoomKeys(room, 'Zz9mXb7V0yJ4kR2dT8wL1nC6hF3sA9eG0uP4zK7iM2o');
    const device = await DeviceIdentity.load(new IndexedDbDeviceKeyStore());
    const nodeId = await device.newNodeId();
    const discovery = new ServerBasedDiscovery({ urls: [url], room: topic, nodeId, proveDevice: signalingProof(device) });
    const signaling = new EncryptedSignalingChannel(discovery, nodeId, otherKeys);
    try {
      await discovery.start();
      while (!(await discovery.discoverPeers()).some((peer) => peer.nodeId === a.session.node.nodeId)) await new Promise((resolve) => setTimeout(resolve, 10));
      for (let i = 0; i < 3; i++) signaling.sendSignal(a.session.node.nodeId, { type: 'offer', sdp: `v=0 attempt ${i}` });
      await eventually(() => a.session.node.refusals.length > 0);
      const lines = a.session.node.refusals;
      // Three signals, one line: a burst from one sender is one event.
      expect(lines.map((line) => [line.peerId, line.reason])).to.deep.equal([[nodeId, 'A device with another key tried to join; nothing it sent was opened']]);
      expect(a.session.status.roomKeyProblem).to.equal(null);
      expect(a.session.status.peers).to.deep.equal([]);
    } finally {
      signaling.close();
      await discovery.stop();
    }
  });
});
