// The page side of bench/webrtc.bench.js, bundled with esbuild and opened once per peer, each peer
// in its own browser context (no BroadcastChannel between them: every byte goes over WebRTC).
// Ours is a real room session (openRoomSession: signaling server, WebRTC, signed sync engine,
// storage in IndexedDB); theirs is a Y.Doc with y-webrtc on its own signaling server. Both pages count every
// byte their RTCDataChannels send and receive, the same way for both sides.
import * as Y from 'yjs';
import { WebrtcProvider } from 'y-webrtc';
import { openRoomSession } from '../../src/app/open-room-session.js';
import { VersionVector } from '../../src/crdt/index.js';
import { buildOurs, buildYjs } from '../lib/electoral-workload.js';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between the two pages. */
const now = () => performance.timeOrigin + performance.now();

const wire = { sent: 0, received: 0, firstReceivedAt: 0, lastReceivedAt: 0, errors: /** @type {string[]} */ ([]) };
/** When the latest latency write was made, until the first data-channel send after it. */
let writtenAt = 0;
/** Per latency write: from the write to its first byte handed to the data channel (page A). */
/** @type {number[]} */
let senderMs = [];
/** Per latency write (ours): from the write until storage committed it (page A). */
/** @type {number[]} */
let storedMs = [];
/** Per latency write: from the data-channel message carrying it to the write applied (page B). */
/** @type {number[]} */
let receiverMs = [];

/** @param {unknown} data */
function byteSize(data) {
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength;
  if (data instanceof Blob) return data.size;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

// Both libraries send with `channel.send`; y-webrtc (simple-peer) receives through
// `channel.onmessage`, ours through `addEventListener('message')`: both are counted.
const send = RTCDataChannel.prototype.send;
RTCDataChannel.prototype.send = function (/** @type {any} */ data) {
  try {
    send.call(this, data);
  } catch (error) {
    // y-webrtc swallows these: they are the only trace of a message that never left.
    wire.errors.push(`${byteSize(data)} bytes: ${/** @type {Error} */ (error).message}`);
    throw error;
  }
  wire.sent += byteSize(data);
  if (writtenAt) {
    senderMs.push(now() - writtenAt);
    writtenAt = 0;
  }
};
/** @param {MessageEvent} event */
function noteReceived(event) {
  wire.lastReceivedAt = now();
  if (!wire.firstReceivedAt) wire.firstReceivedAt = wire.lastReceivedAt;
  wire.received += byteSize(event.data);
}
const addEventListener = RTCDataChannel.prototype.addEventListener;
RTCDataChannel.prototype.addEventListener = function (/** @type {string} */ type, /** @type {any} */ listener, /** @type {any} */ options) {
  if (type !== 'message' || typeof listener !== 'function') return addEventListener.call(this, type, listener, options);
  /** @this {RTCDataChannel} @param {Event} event */
  const counted = function (event) {
    noteReceived(/** @type {MessageEvent} */ (event));
    return listener.call(this, event);
  };
  return addEventListener.call(this, type, counted, options);
};
const onmessage = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(RTCDataChannel.prototype, 'onmessage'));
Object.defineProperty(RTCDataChannel.prototype, 'onmessage', {
  configurable: true,
  enumerable: true,
  get: onmessage.get,
  set(/** @type {((event: MessageEvent) => void) | null} */ handler) {
    onmessage.set?.call(
      this,
      handler &&
        ((/** @type {MessageEvent} */ event) => {
          noteReceived(event);
          handler.call(this, event);
        }),
    );
  },
});

function resetWire() {
  wire.sent = 0;
  wire.received = 0;
  wire.firstReceivedAt = 0;
}

/**
 * Resolves once `done()` holds, checked on every `subscribe` callback; rejects after `timeoutMs`.
 * @param {(check: () => void) => () => void} subscribe
 * @param {() => boolean} done
 * @param {number} timeoutMs
 * @param {string} what
 * @param {() => unknown} [state] what to report on a timeout
 */
function until(subscribe, done, timeoutMs, what, state = () => '') {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${JSON.stringify(state())}`));
    }, timeoutMs);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(undefined);
    };
    unsubscribe = subscribe(check);
    check();
  });
}

/** @type {import('../../src/app/room-session.js').RoomSession | undefined} */
let session;

/**
 * Long tasks (over 50 ms) of this page from now until `stop()` is called: each entry's duration.
 * Chromium reports them for the page's main thread, whatever ran in them.
 */
function watchLongTasks() {
  /** @type {number[]} */
  const durations = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  return {
    stop() {
      for (const entry of observer.takeRecords()) durations.push(entry.duration);
      observer.disconnect();
      return { longTasks: durations.length, longestTaskMs: Math.max(0, ...durations), longTasksMs: durations.reduce((sum, ms) => sum + ms, 0) };
    },
  };
}

/**
 * Resolves once `open` holds at least `wanted`, has nothing unsaved, and every connected peer
 * (at least one) shows it in sync: state digests equal, so it holds what the peer holds.
 * @param {import('../../src/app/room-session.js').RoomSession} open @param {VersionVector} wanted @param {number} timeoutMs
 */
function settled(open, wanted, timeoutMs) {
  const done = () => {
    const status = open.status;
    return open.model.version.includes(wanted) && status.unsavedChanges === 0 && status.peers.length > 0 && status.peers.every((peer) => peer.inSync);
  };
  return until((check) => open.onStatus(check), done, timeoutMs, 'in sync with everything saved', () => ({ status: open.status, version: open.model.version.toJSON() }));
}
/** @type {{ doc: Y.Doc, provider: WebrtcProvider } | undefined} */
let yjs;
/** Where the latency writes go: a voter's oid. */
let target = '';
/** @type {number[]} */
let latencies = [];
let expected = 0;

/** The room secret both pages share (base64url of 32 bytes, as a room link carries it). */
const SECRET = 'd2VicnRjIGJlbmNobWFyayByb29tIHNlY3JldCAzMmI';

/** @param {string} roomId @param {string} signalingUrl */
const openOurs = (roomId, signalingUrl) =>
  // The shipped configuration: signed changes and the room's IndexedDB, so every own edit is
  // stored before it leaves the device (durable before visible) and every ack waits for a save.
  openRoomSession({ roomId, secret: SECRET }, { signalingUrl, localTabs: false, iceServers: [], displayName: null });

/** @param {string} roomId @param {string} signalingUrl @param {Y.Doc} doc */
const openYjs = (roomId, signalingUrl, doc) =>
  // The default signaling list names public servers, and simple-peer's default ICE servers are
  // public STUN servers: both are replaced. Each page has its own browser context, so y-webrtc's
  // BroadcastChannel reaches no other peer either way.
  new WebrtcProvider(roomId, doc, { signaling: [signalingUrl], peerOpts: { config: { iceServers: [] } }, filterBcConns: true });

/** Latency writes and their receipt: the written value carries the time it was written. */
const stamp = (/** @type {number} */ i) => `Voter ${i}@${now()}`;
/** @param {unknown} value */
function received(value) {
  if (typeof value !== 'string') return;
  const at = value.indexOf('@');
  const i = Number(value.slice(6, at));
  if (!value.startsWith('Voter ') || at < 0 || !(i >= latencies.length)) return;
  const appliedAt = now();
  const ms = appliedAt - Number(value.slice(at + 1));
  // A write overtaken by the next one before it was applied counts with the later apply time.
  while (latencies.length <= i) {
    latencies.push(ms);
    receiverMs.push(appliedAt - wire.lastReceivedAt);
  }
}

/** @type {any} */ (window).webrtcBench = {
  /**
   * Peer A: opens the room holding the `n`-entity electoral workload.
   * @param {'ours' | 'yjs'} side @param {string} roomId @param {string} signalingUrl @param {number} n
   */
  async seed(side, roomId, signalingUrl, n) {
    if (side === 'ours') {
      session = await openOurs(roomId, signalingUrl);
      const model = session.model;
      // The shared workload builds into a model it constructs: hand it the session's model.
      const core = /** @type {any} */ ({ ElectoralSystemModel: class { constructor() { return model; } } });
      const { voters } = buildOurs(core, n, session.node.nodeId);
      target = voters[0].oid;
      // A peer that has been open a while: everything stored, nothing left over from the build.
      // The build's changes reach storage's count a moment after the build (0 right after it), so
      // the wait is for that count to have been above 0 and be back at 0: otherwise page A was
      // still saving its whole room while B joined, and B's delta waited for that save.
      const open = session;
      let counted = false;
      await until(
        (check) =>
          open.onStatus(() => {
            counted ||= open.status.unsavedChanges > 0;
            check();
          }),
        () => counted && open.status.unsavedChanges === 0,
        60_000,
        'the model saved',
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { target, version: model.version.toJSON() };
    }
    const { doc, voters } = buildYjs(n);
    for (const [oid, entity] of doc.getMap('entities')) if (entity === voters[0]) target = oid;
    yjs = { doc, provider: openYjs(roomId, signalingUrl, doc) };
    return { target, version: Array.from(Y.encodeStateVector(doc)) };
  },

  /**
   * Peer B: joins the room fresh and times until it holds everything A had; the bytes are both
   * directions over the data channels, counted while joining.
   * @param {'ours' | 'yjs'} side @param {string} roomId @param {string} signalingUrl @param {{ target: string, version: any }} seeded @param {number} timeoutMs
   */
  async join(side, roomId, signalingUrl, seeded, timeoutMs) {
    resetWire();
    target = seeded.target;
    const started = now();
    if (side === 'ours') {
      const tasks = watchLongTasks();
      session = await openOurs(roomId, signalingUrl);
      const node = session.node;
      const model = session.model;
      const wanted = VersionVector.fromJSON(seeded.version);
      await until((check) => node.events.on('model-changed', check), () => model.version.includes(wanted), timeoutMs, 'the whole model', () => ({
        version: model.version.toJSON(),
        wanted: seeded.version,
        status: node.status,
        peers: node.sync.peerStatus(),
        wire,
      }));
      const ms = now() - started;
      const syncBytesReceived = node.sync.peerStatus().reduce((sum, peer) => sum + peer.counters.bytesReceived, 0);
      const via = node.sync.peerStatus().map((peer) => peer.via);
      // Joining goes on after the state is held: saving it, and comparing digests with page A.
      await settled(session, wanted, timeoutMs);
      const settledMs = now() - started;
      return { ms, settledMs, ...tasks.stop(), connectMs: wire.firstReceivedAt - started, lastByteMs: wire.lastReceivedAt - started, bytes: wire.sent + wire.received, bytesReceived: wire.received, syncBytesReceived, via };
    }
    const doc = new Y.Doc();
    const entities = doc.getMap('entities');
    const wanted = Y.decodeStateVector(Uint8Array.from(seeded.version));
    const holdsAll = () => {
      const have = Y.decodeStateVector(Y.encodeStateVector(doc));
      return [...wanted].every(([client, clock]) => (have.get(client) ?? 0) >= clock);
    };
    // The whole state arrives as one update: checking the entity count first keeps the check cheap.
    let sized = false;
    yjs = { doc, provider: openYjs(roomId, signalingUrl, doc) };
    const provider = yjs.provider;
    await until(
      (check) => {
        const onUpdate = () => {
          sized ||= entities.size > 0;
          check();
        };
        doc.on('update', onUpdate);
        return () => doc.off('update', onUpdate);
      },
      () => sized && holdsAll(),
      timeoutMs,
      'the whole document',
    );
    const ms = now() - started;
    const via = [...(provider.room?.webrtcConns.keys() ?? [])].map(() => 'webrtc').concat(provider.room?.bcConns.size ? ['broadcast'] : []);
    return { ms, connectMs: wire.firstReceivedAt - started, lastByteMs: wire.lastReceivedAt - started, bytes: wire.sent + wire.received, bytesReceived: wire.received, via };
  },

  /**
   * Peer B, holding the room: closes its session (everything saved) and opens it again, as a
   * restarted device does; times until the model is loaded from IndexedDB (`ready`), and until it
   * is in sync with page A again (connected, digests equal, nothing unsaved).
   * @param {string} roomId @param {string} signalingUrl @param {{ version: any }} seeded @param {number} timeoutMs
   */
  async restart(roomId, signalingUrl, seeded, timeoutMs) {
    await session?.close();
    session = undefined;
    const started = now();
    const open = await openOurs(roomId, signalingUrl);
    session = open;
    const readyMs = now() - started;
    const entities = open.model.getEntityStates().length;
    await settled(open, VersionVector.fromJSON(seeded.version), timeoutMs);
    return { readyMs, inSyncMs: now() - started, entities };
  },

  /** Peer B: records the latency of every write it applies from now on. @param {number} count */
  listen(count) {
    latencies = [];
    receiverMs = [];
    expected = count;
    if (session) {
      const model = session.model;
      session.node.events.on('model-changed', (event) => {
        if (event.origin === 'remote') received(model.get(target)?.getAttribute('name'));
      });
    } else if (yjs) {
      const entity = /** @type {Y.Map<unknown>} */ (yjs.doc.getMap('entities').get(target));
      entity.observe(() => received(entity.get('name')));
    }
  },

  /**
   * Peer A: `count` writes to one attribute, `intervalMs` apart; resolves with each write's time
   * until its first byte was handed to the data channel.
   * @param {number} count @param {number} intervalMs
   */
  async write(count, intervalMs) {
    senderMs = [];
    storedMs = [];
    // Ours: when the write was stored (the status counts no unsaved change again), to see where
    // page A's part of the latency goes.
    let storing = 0;
    const unsubscribe = session?.onStatus((status) => {
      if (storing && status.unsavedChanges === 0) {
        storedMs.push(now() - storing);
        storing = 0;
      }
    });
    for (let i = 0; i < count; i++) {
      writtenAt = now();
      storing = writtenAt;
      if (session) session.model.update(target, { name: stamp(i) });
      else /** @type {Y.Map<unknown>} */ (yjs?.doc.getMap('entities').get(target))?.set('name', stamp(i));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    writtenAt = 0;
    unsubscribe?.();
    return senderMs;
  },

  /** Peer A, ours: per latency write, from the write until it was stored. */
  storedMs() {
    return storedMs;
  },

  /**
   * Peer B: the latency of each write, and the part of it spent in this page (from the message
   * that carried the write to the write applied), once all arrived.
   * @param {number} timeoutMs
   */
  async latencies(timeoutMs) {
    await until(
      (check) => {
        const timer = setInterval(check, 10);
        return () => clearInterval(timer);
      },
      () => latencies.length >= expected,
      timeoutMs,
      'every write',
    );
    return { latencies, receiverMs };
  },

  /** What this page's peer knows, for a failure report. */
  state() {
    if (!session) return { peers: [...(yjs?.provider.room?.webrtcConns.keys() ?? [])], wire };
    return { version: session.model.version.toJSON(), status: session.node.status, peers: session.node.sync.peerStatus(), wire };
  },

  /** Why data-channel sends failed in this page, if they did. */
  sendErrors() {
    return wire.errors;
  },

  async close() {
    await session?.close();
    yjs?.provider.destroy();
    yjs?.doc.destroy();
  },
};
