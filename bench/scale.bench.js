// Scale: rooms of N = 10 … 200 real EDNetP2PNodes (real SynchronizationEngine, election model,
// the HyParView overlay) over in-memory transports, in one Node process. Measures connections per
// node, messages and bytes one one-attribute edit costs (sync traffic, and the overlay's own
// traffic in the same window), hops from the writer to the farthest device, time to converge
// after a burst of edits, and heap per node. The goals of issue 14 are in the details: one group
// at every N, at most 3N messages per edit, at most 6 hops at N = 100, bytes per edit growing at
// most linearly. Changes travel by the sync engine's epidemic broadcast (Plumtree, sync protocol 4):
// deltas along a tree of eager links, compact announcements on a few lazy ones. Anti-entropy is off
// here so every message counted is the edit's own (in a room, each device also compares versions
// with 3 random peers every 30 s).
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { seededRandom } from '../test/seeded-random.js';
import { importBundledModule } from './lib/load-core.js';

// A full collection before each heap reading, so the difference is what the nodes hold.
v8.setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (runInNewContext('gc'));

const ROOM = 'scale';
const MODEL = 'election';

/** The node, the election model and in-memory networking, bundled for plain Node. */
function loadRoomCode() {
  return importBundledModule('scale-bench', [
    "export { ElectoralSystemModel } from './src/models/electoral/index.ts';",
    "export { MemoryNetwork, MemoryTransport, MemoryDiscovery } from './src/net/index.ts';",
    "export { EDNetP2PNode } from './src/node/index.ts';",
    "export { PeerLink } from './src/sync/peer-link.ts';",
  ]);
}

/** Sync messages sent by every node of the process so far, by type (`t`), every connection counted. */
const sentByType = /** @type {Map<string, number>} */ (new Map());

/**
 * Counts each sync message by type where every node's engine sends it (`PeerLink.send` of this
 * bundle): what an edit's messages are (deltas, acks, announcements, grafts, prunes, handshakes).
 * @param {any} code
 */
function countMessageTypes(code) {
  const send = code.PeerLink.prototype.send;
  code.PeerLink.prototype.send = function (/** @type {{ t: string }} */ message) {
    sentByType.set(message.t, (sentByType.get(message.t) ?? 0) + 1);
    return send.call(this, message);
  };
}

/** What `sentByType` grew by since `before`. @param {Map<string, number>} before */
const typesSince = (before) =>
  Object.fromEntries([...sentByType].map(([t, n]) => /** @type {[string, number]} */ ([t, n - (before.get(t) ?? 0)])).filter(([, n]) => n > 0));

/** @typedef {{ id: string, node: any, model: any }} Member */

/**
 * Resolves once `condition()` holds (checked every few ms); rejects after `timeoutMs`.
 * @param {() => boolean} condition @param {string} what
 */
async function until(condition, what, timeoutMs = 120_000) {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

/** @param {Member[]} members */
function graphOf(members) {
  /** @type {Map<string, Set<string>>} */
  const graph = new Map(members.map((member) => [member.id, new Set()]));
  for (const member of members) {
    for (const connection of member.node.connections.connections) {
      graph.get(member.id)?.add(connection.peerId);
      graph.get(connection.peerId)?.add(member.id);
    }
  }
  return graph;
}

/** Hops from `from` to every node it reaches (BFS). @param {Map<string, Set<string>>} graph @param {string} from */
function distances(graph, from) {
  const distance = new Map([[from, 0]]);
  const queue = [from];
  while (queue.length) {
    const node = /** @type {string} */ (queue.shift());
    for (const next of graph.get(node) ?? []) {
      if (!distance.has(next)) {
        distance.set(next, (distance.get(node) ?? 0) + 1);
        queue.push(next);
      }
    }
  }
  return distance;
}

/** @param {Member[]} members */
function groups(members) {
  const graph = graphOf(members);
  const seen = new Set();
  let count = 0;
  for (const id of graph.keys()) {
    if (seen.has(id)) continue;
    count++;
    for (const reached of distances(graph, id).keys()) seen.add(reached);
  }
  return count;
}

/** @param {Member[]} members */
const converged = (members) => {
  const first = JSON.stringify(members[0].model.version.toJSON());
  return members.every((member) => JSON.stringify(member.model.version.toJSON()) === first);
};

/** @param {Member[]} members */
const overlayTraffic = (members) =>
  members.reduce((/** @type {{ messages: number, bytes: number }} */ sum, member) => ({ messages: sum.messages + member.node.overlay.counters.messagesSent, bytes: sum.bytes + member.node.overlay.counters.bytesSent }), { messages: 0, bytes: 0 });

/** Sync messages and bytes sent so far on each open connection, by `from→to`. @param {Member[]} members */
function linkCounts(members) {
  /** @type {Map<string, { messages: number, bytes: number }>} */
  const counts = new Map();
  for (const member of members)
    for (const peer of member.node.sync.peerStatus()) counts.set(`${member.id}→${peer.peerId}`, { messages: peer.counters.messagesSent, bytes: peer.counters.bytesSent });
  return counts;
}

/** Nothing of an edit left to send: no announcement or graft pending, every delta acknowledged. @param {Member[]} members */
const idle = (members) =>
  members.every((member) => member.node.sync.broadcastStatus().scheduled === 0 && member.node.sync.peerStatus().every((/** @type {any} */ peer) => peer.models.every((/** @type {any} */ model) => model.unacked === 0)));

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every device made one change, each under its own author id, before the room opened (a room
 * whose members have all written): every version vector holds `count` entries more.
 * @param {any} code @param {number} count
 */
function priorChanges(code, count) {
  return Array.from({ length: count }, (_, index) => {
    const author = new code.ElectoralSystemModel({ modelId: MODEL, nodeId: `author-${index}`, roles: 'open' });
    author.createElection({ title: `Written by author ${index}` });
    return author.getDelta(new author.version.constructor());
  });
}

/**
 * One edit of `oid` by `writer`, counted on every connection open at the end (those opened
 * meanwhile from zero, their handshake included) until every node holds it and nothing of it is
 * pending; the hops it took (who first delivered it to whom).
 * @param {Member[]} members @param {Member} writer @param {string} oid @param {string} title
 */
async function measureEdit(members, writer, oid, title) {
  const linksBefore = linkCounts(members);
  /** Who first delivered the edit to each node: the path it took. @type {Map<string, string>} */
  const deliveredBy = new Map();
  const offs = members.map((member) =>
    member.node.sync.onEvent((/** @type {any} */ event) => {
      if (event.type === 'changes-applied' && event.result.applied > 0 && !deliveredBy.has(member.id)) deliveredBy.set(member.id, event.peerId);
    }),
  );
  const typesBefore = new Map(sentByType);
  const editStarted = performance.now();
  writer.model.update(oid, { title });
  await until(() => converged(members), 'edit converged');
  const editMs = performance.now() - editStarted;
  await until(() => idle(members), 'edit settled');
  const messageTypes = typesSince(typesBefore);
  for (const off of offs) off();
  let linkMessages = 0;
  let linkBytes = 0;
  for (const [key, count] of linkCounts(members)) {
    linkMessages += count.messages - (linksBefore.get(key)?.messages ?? 0);
    linkBytes += count.bytes - (linksBefore.get(key)?.bytes ?? 0);
  }
  const size = members.length;
  /** @param {string} id @returns {number} */
  const depth = (id, seen = 0) => (id === writer.id || seen > size ? 0 : 1 + depth(deliveredBy.get(id) ?? writer.id, seen + 1));
  const broadcastHops = Math.max(...members.map((member) => depth(member.id)));
  return { linkMessages, linkBytes, broadcastHops, editMs, messageTypes };
}

/**
 * @param {any} code @param {number} size
 * @param {{ priorAuthors?: number, editOnly?: boolean, sourceTrees?: number }} [options] `editOnly`: only what one edit costs (no roster, burst or heap); `sourceTrees`: the broadcast's trees per writer (default: the engine's, one shared tree)
 */
async function measureRoom(code, size, { priorAuthors = 0, editOnly = false, sourceTrees } = {}) {
  const network = new code.MemoryNetwork();
  const prior = priorChanges(code, priorAuthors);
  const quiet = { warn: () => undefined };
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  /** @type {Member[]} */
  const members = Array.from({ length: size }, (_, index) => {
    const id = `node-${index}`;
    const model = new code.ElectoralSystemModel({ modelId: MODEL, nodeId: id, roles: 'open' });
    const node = new code.EDNetP2PNode({
      nodeId: id,
      transports: [new code.MemoryTransport(network, id, { logger: quiet })],
      discoveries: [new code.MemoryDiscovery(network, { room: ROOM, nodeId: id, logger: quiet })],
      followBrowserOnline: false,
      backoff: { initialMs: 50, maxMs: 1_000 },
      logger: quiet,
      // Upkeep and shuffles sped up so the room settles in seconds; the roster's gossip periods
      // (10 s heartbeats, news passed on after 1 s) are the defaults, since they cost the most.
      overlay: { random: seededRandom(index + 1), tickIntervalMs: 200, shuffleIntervalMs: 2_000 },
      sync: { antiEntropyIntervalMs: 0, broadcast: { random: seededRandom(10_000 + index), ...(sourceTrees === undefined ? {} : { sourceTrees }) } },
    });
    for (const changes of prior) model.applyChanges(changes);
    node.registerDomainModel(MODEL, model);
    return { id, node, model };
  });
  const started = performance.now();
  await Promise.all(members.map((member) => member.node.start()));
  const first = members[0].model.createElection({ title: 'Board' });
  await until(() => groups(members) === 1 && converged(members), `${size} nodes in one group`);
  const joinedMs = performance.now() - started;
  // Let the overlay settle (refills, shuffles) before measuring an edit.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await until(() => converged(members), 'settled');
  gc();
  const heapPerNode = (process.memoryUsage().heapUsed - heapBefore) / size;
  const degrees = members.map((member) => member.node.connections.connections.length).sort((a, b) => a - b);
  const graph = graphOf(members);
  const writer = members[Math.floor(size / 2)];
  const hops = Math.max(...distances(graph, writer.id).values());

  // A first edit from another device floods every link once and prunes the duplicates into a tree.
  members[0].model.update(first.oid, { title: 'Board (draft)' });
  await until(() => converged(members) && idle(members), 'first edit settled');

  // One one-attribute edit: messages and bytes until every node holds it and nothing of it is
  // left to send (announcements, grafts, acks). With a tree per writer (`sourceTrees`) this is
  // the writer's first edit, which floods and prunes its tree; its next edit travels that tree.
  const networkBefore = network.stats;
  const overlayBefore = overlayTraffic(members);
  const edit = await measureEdit(members, writer, first.oid, 'Board of trustees');
  const { linkMessages, linkBytes, broadcastHops, editMs, messageTypes } = edit;
  const networkAfter = network.stats;
  const overlayAfter = overlayTraffic(members);
  const next = await measureEdit(members, writer, first.oid, 'Board of the trust');
  const links = members.reduce((sum, member) => { const status = member.node.sync.broadcastStatus(writer.id); return { eager: sum.eager + status.eager.length, lazy: sum.lazy + status.lazy.length }; }, { eager: 0, lazy: 0 });
  if (editOnly) {
    await Promise.all(members.map((member) => member.node.stop()));
    network.close();
    return { size, entries: [...writer.model.version.nodes()].length, syncMessages: linkMessages, syncBytes: linkBytes, broadcastHops, editMs, messageTypes, next };
  }
  const overlayMessages = overlayAfter.messages - overlayBefore.messages;
  const overlayBytes = overlayAfter.bytes - overlayBefore.bytes;
  const allMessages = networkAfter.messages - networkBefore.messages;
  const allBytes = networkAfter.bytes - networkBefore.bytes;
  // The roster passes changed state digests on after a second: the overlay's share of an edit is
  // what 10 s after it cost beyond 10 s without one (heartbeats alike in both).
  const quietStart = overlayTraffic(members);
  await sleep(10_000);
  const quietEnd = overlayTraffic(members);
  writer.model.update(first.oid, { title: 'Board of governors' });
  await sleep(10_000);
  const editEnd = overlayTraffic(members);
  const rosterPerEdit = {
    messages: editEnd.messages - quietEnd.messages - (quietEnd.messages - quietStart.messages),
    bytes: editEnd.bytes - quietEnd.bytes - (quietEnd.bytes - quietStart.bytes),
  };
  const background = { messages: (quietEnd.messages - quietStart.messages) / 10, bytes: (quietEnd.bytes - quietStart.bytes) / 10 };

  // A burst: ten nodes make ten edits each at once.
  const burstStarted = performance.now();
  for (const member of members.slice(0, 10)) for (let i = 0; i < 10; i++) member.model.createElection({ title: `${member.id} ${i}` });
  await until(() => converged(members), 'burst converged');
  const burstMs = performance.now() - burstStarted;

  const groupsAtEnd = groups(members);
  await Promise.all(members.map((member) => member.node.stop()));
  network.close();
  return {
    size,
    groups: groupsAtEnd,
    joinedMs,
    degrees,
    hops,
    broadcastHops,
    next,
    links,
    syncMessages: linkMessages,
    syncBytes: linkBytes,
    windowMessages: allMessages - overlayMessages,
    messageTypes,
    windowBytes: allBytes - overlayBytes,
    overlayMessages,
    overlayBytes,
    rosterPerEdit,
    background,
    editMs,
    burstMs,
    heapPerNode,
  };
}

/**
 * The row of one measured edit: its messages against the ≤ 3N goal, its hops against ≤ 6 at N = 100.
 * @param {string} name @param {number} size
 * @param {{ linkMessages: number, linkBytes: number, broadcastHops: number, messageTypes: Record<string, number> }} edit
 */
function editRow(name, size, edit) {
  return {
    name,
    unit: 'messages',
    value: edit.linkMessages,
    goal: `≤ 3N = ${3 * size}`,
    'per node': +(edit.linkMessages / size).toFixed(2),
    hops: edit.broadcastHops,
    'hops goal': size === 100 ? '≤ 6' : '',
    bytes: edit.linkBytes,
    'by type, in the window': Object.entries(edit.messageTypes).map(([t, c]) => `${t} ${c}`).join(', '),
  };
}

/**
 * Runs the benchmark; `quick` stops at 50 nodes; `writtenOnly`: only the rooms where every device has written.
 * @param {{ quick?: boolean, sizes?: number[], writtenOnly?: boolean }} [options]
 */
export async function run({ quick = false, sizes = quick ? [10, 25, 50] : [10, 25, 50, 100, 200], writtenOnly = false } = {}) {
  const code = await loadRoomCode();
  countMessageTypes(code);
  const rows = [];
  for (const size of writtenOnly ? [] : sizes) {
    const r = /** @type {any} */ (await measureRoom(code, size));
    const median = r.degrees[Math.floor(r.degrees.length / 2)];
    const n = `N = ${size}`;
    const sizeRows = [
      { name: `scale ${n}: groups after joining`, unit: 'groups', value: r.groups, goal: '1', 'time to one converged group ms': Math.round(r.joinedMs) },
      { name: `scale ${n}: connections per node`, unit: 'connections', value: median, min: r.degrees[0], max: r.degrees[r.degrees.length - 1] },
      {
        name: `scale ${n}: sync messages per one-attribute edit`,
        unit: 'messages',
        value: r.syncMessages,
        goal: `≤ 3N = ${3 * size}`,
        'per node': +(r.syncMessages / size).toFixed(2),
        'in the window, with connections opened and closed meanwhile': r.windowMessages,
        'by type, in the window': Object.entries(r.messageTypes).map(([t, n]) => `${t} ${n}`).join(', '),
      },
      {
        name: `scale ${n}: sync bytes per one-attribute edit`,
        unit: 'bytes',
        value: r.syncBytes,
        'per node': Math.round(r.syncBytes / size),
        'in the window': r.windowBytes,
      },
      {
        name: `scale ${n}: overlay (roster) messages an edit adds, within 10 s`,
        unit: 'messages',
        value: r.rosterPerEdit.messages,
        bytes: r.rosterPerEdit.bytes,
        'during the edit itself': r.overlayMessages,
      },
      {
        name: `scale ${n}: overlay background traffic, whole room`,
        unit: 'messages/s',
        value: Math.round(r.background.messages),
        'bytes/s': Math.round(r.background.bytes),
      },
      { name: `scale ${n}: hops the edit took to the farthest node (broadcast tree)`, unit: 'hops', value: r.broadcastHops, goal: size === 100 ? '≤ 6' : '', 'shortest path in the overlay': r.hops },
      editRow(`scale ${n}: the same writer's next edit: messages, hops`, size, r.next),
      { name: `scale ${n}: broadcast links, whole room (each end counts)`, unit: 'eager', value: r.links.eager, lazy: r.links.lazy },
      { name: `scale ${n}: edit to all nodes`, unit: 'ms', value: Math.round(r.editMs) },
      { name: `scale ${n}: converge after a burst (10 nodes × 10 edits)`, unit: 'ms', value: Math.round(r.burstMs) },
      { name: `scale ${n}: heap per node (model, engine, overlay, connections)`, unit: 'KiB', value: Math.round(r.heapPerNode / 1024) },
    ];
    // A run of every size takes minutes: each size is reported as soon as it is measured.
    for (const row of sizeRows) console.error(`scale: ${JSON.stringify(row)}`);
    rows.push(...sizeRows);
  }
  // The same edit in a room where every device has written (before it opened): version vectors
  // of N + 2 entries. Deltas and acks carried whole vectors before sync protocol 5, so bytes per
  // device grew with N; with compact versions they should stay about flat.
  for (const size of sizes) {
    const r = await measureRoom(code, size, { priorAuthors: size, editOnly: true });
    const row = {
      name: `scale N = ${size}, every device having written: sync bytes per one-attribute edit`,
      unit: 'bytes',
      value: r.syncBytes,
      'per node': Math.round(r.syncBytes / size),
      messages: r.syncMessages,
      'by type, in the window': Object.entries(r.messageTypes).map(([t, n]) => `${t} ${n}`).join(', '),
      'version entries': r.entries,
      'next edit of the same writer: bytes': r.next.linkBytes,
      'its messages': r.next.linkMessages,
    };
    console.error(`scale: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  // The option the default leaves off: a broadcast tree per writer (sync protocol 6), measured at
  // the largest size (the hops goal's N = 100 in a full run). A writer's first edit floods to
  // build its tree; its next edit takes about its distance to the farthest device.
  const treeSize = Math.max(...sizes);
  if (!writtenOnly) {
    const r = /** @type {any} */ (await measureRoom(code, treeSize, { editOnly: true, sourceTrees: 32 }));
    const n = `N = ${treeSize}, a tree per writer (sourceTrees 32)`;
    const first = { linkMessages: r.syncMessages, linkBytes: r.syncBytes, broadcastHops: r.broadcastHops, messageTypes: r.messageTypes };
    const treeRows = [
      editRow(`scale ${n}: a writer's first edit (builds its tree): messages, hops`, treeSize, first),
      editRow(`scale ${n}: the same writer's next edit: messages, hops`, treeSize, r.next),
    ];
    for (const row of treeRows) console.error(`scale: ${JSON.stringify(row)}`);
    rows.push(...treeRows);
  }
  return rows;
}
