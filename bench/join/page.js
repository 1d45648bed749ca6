// The page side of bench/join.bench.js: one tab opening a real room session (signaling server,
// WebRTC, authentication, signed sync, the overlay; storage in memory) and timing its way in.
import { openRoomSession } from '../../src/app/open-room-session.js';
import { MemoryStorageAdapter } from '../../src/store/index.js';

const now = () => performance.timeOrigin + performance.now();

/** @type {any} */ (window).joinBench = {
  /**
   * Opens the room and resolves once this tab reaches all `devices` devices of the room and holds
   * their state, with the timings of its way there.
   * @param {string} roomId @param {string} secret @param {string} signalingUrl @param {number} devices @param {number} timeoutMs
   */
  async join(roomId, secret, signalingUrl, devices, timeoutMs) {
    const started = now();
    const session = await openRoomSession({ roomId, secret }, { signalingUrl, storage: new MemoryStorageAdapter(), localTabs: false, displayName: null });
    const opened = now();
    // The session's own marks (src/app/open-room-session.ts): how long each step of opening took.
    /** @type {Record<string, number>} */
    const steps = {};
    let previous = started - performance.timeOrigin;
    for (const mark of performance.getEntriesByType('mark')) {
      if (!mark.name.startsWith('ednet:open:') || mark.startTime < previous) continue;
      steps[mark.name.slice('ednet:open:'.length)] = mark.startTime - previous;
      previous = mark.startTime;
    }
    /** @type {Map<string, number>} */
    const connecting = new Map();
    /** @type {number[]} */ const setupMs = [];
    /** @type {Map<string, number>} */ const openAt = new Map();
    /** @type {number[]} */ const readyMs = [];
    let signalingAt = 0;
    /** @type {Record<string, number>} */
    const failures = {};
    session.node.connections.onStateChange((event) => {
      if (event.state === 'failed') {
        const reason = String(event.reason).replace(/node-[\w-]+|[A-Za-z0-9_-]{20,}/g, '…').slice(0, 80);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
      if (event.state === 'connecting' && !connecting.has(event.peerId)) connecting.set(event.peerId, now());
      if (event.state === 'open') {
        openAt.set(event.peerId, now());
        const since = connecting.get(event.peerId);
        if (since !== undefined) setupMs.push(now() - since);
      }
    });
    const ready = new Set();
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(session.status.room)}`)), timeoutMs);
      const check = () => {
        const status = session.status;
        if (!signalingAt && status.signaling === 'connected') signalingAt = now();
        for (const peer of status.peers) {
          if (ready.has(peer.peerId)) continue;
          ready.add(peer.peerId);
          const at = openAt.get(peer.peerId);
          if (at !== undefined) readyMs.push(now() - at);
        }
        const room = status.room;
        if (room && room.reached === devices && room.inSync === devices - 1) {
          clearTimeout(timer);
          resolve(undefined);
        }
      };
      session.onStatus(check);
      check();
    });
    const done = now();
    /** @type {any} */ (window).session = session;
    return {
      startedAt: started,
      openMs: opened - started,
      steps,
      signalingMs: signalingAt ? signalingAt - started : null,
      setupMs,
      readyMs,
      doneAt: done,
      totalMs: done - started,
      connected: session.status.peers.length,
      failures,
    };
  },

  /**
   * Before an edit elsewhere: records when this tab first holds operation `seq` of `node`
   * (checked on every change of the model, so the time is that of arrival, not of a poll).
   * @param {string} node @param {number} seq
   */
  watch(node, seq) {
    const session = /** @type {any} */ (window).session;
    /** @type {any} */ (window).arrival = new Promise((resolve) => {
      const check = () => {
        if (session.model.version.get(node) < seq) return false;
        resolve(now());
        return true;
      };
      if (check()) return;
      const off = session.model.onChange(() => {
        if (check()) off();
      });
    });
  },

  /** Makes one edit here; its node id, seq and time. */
  edit() {
    const session = /** @type {any} */ (window).session;
    const node = session.node.nodeId;
    const seq = session.model.version.get(node) + 1;
    const at = now();
    session.model.createElection({ title: 'Latency' });
    return { node, seq, at };
  },

  /** When this tab got the watched edit (waits for it). */
  arrival() {
    return /** @type {any} */ (window).arrival;
  },
};
