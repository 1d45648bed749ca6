import { WebSocket } from 'ws';
import { createSignalingServer } from '../../signaling/signaling-server.js';

/** Long enough for a slow, shared machine: waits end on events, this only stops a hung test. */
export const PATIENCE_MS = 20_000;

/** A logger that keeps what the server says, so tests stay quiet. */
export function recordingLogger() {
  /** @type {string[]} */
  const messages = [];
  return { messages, warn: (/** @type {string} */ message) => messages.push(message), info: (/** @type {string} */ message) => messages.push(message) };
}

/**
 * A signaling server on a free port with a quiet logger; `options` override the defaults. Device
 * proofs are off unless asked for: these clients join under short made-up ids
 * (test/signaling/signaling-auth.test.js tests the proofs).
 * @param {import('../../signaling/signaling-options.js').SignalingServerOptions} [options]
 */
export function startServer(options = {}) {
  return createSignalingServer({ logger: recordingLogger(), requireDeviceProof: false, ...options });
}

/**
 * The hub's counts of a server's stats, without the connection caps' counts.
 * @param {import('../../signaling/signaling-server.js').SignalingStats} stats
 */
export function hubCounts({ connections, rooms, memberships, relayedSignals, refusedFrames, rateLimitedFrames }) {
  return { connections, rooms, memberships, relayedSignals, refusedFrames, rateLimitedFrames };
}

/** @typedef {Record<string, any>} Frame */

/** A WebSocket client for tests: queues the server's frames and waits for them. */
export class TestClient {
  /**
   * Opens a connection and waits for the `welcome` frame.
   * @param {string} url
   * @param {import('ws').ClientOptions} [options]
   */
  static async connect(url, options) {
    const client = new TestClient(new WebSocket(url, options));
    await client.opened;
    client.welcome = await client.next('welcome');
    return client;
  }

  /** @param {WebSocket} socket */
  constructor(socket) {
    this.socket = socket;
    /** @type {Frame} */
    this.welcome = {};
    /** @type {Frame[]} */
    this.frames = [];
    /** @type {(() => void)[]} */
    this.wakers = [];
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    /** @type {Promise<{ code: number, reason: string }>} */
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    socket.on('error', () => undefined);
    socket.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      this.frames.push(JSON.parse(String(data)));
      this.wake();
    });
  }

  /** Sends a frame: objects as JSON, strings and buffers as they are. @param {unknown} frame */
  send(frame) {
    this.socket.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /**
   * Takes the first queued frame of `type` (or matching a predicate), waiting for it.
   * @param {string | ((frame: Frame) => boolean)} match
   * @returns {Promise<Frame>}
   */
  async next(match) {
    const test = typeof match === 'string' ? (/** @type {Frame} */ frame) => frame.type === match : match;
    const deadline = Date.now() + PATIENCE_MS;
    for (;;) {
      const index = this.frames.findIndex(test);
      if (index >= 0) return this.frames.splice(index, 1)[0];
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`closed while waiting for ${String(match)}; queued: ${JSON.stringify(this.frames)}`);
      if (Date.now() > deadline) throw new Error(`no ${String(match)} frame; queued: ${JSON.stringify(this.frames)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wakers.push(() => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
  }

  /** Takes the next `error` frame. */
  error() {
    return this.next('error');
  }

  /** Joins `room` as `peer` and returns the `joined` frame. @param {string} room @param {string} peer */
  async join(room, peer) {
    this.send({ type: 'join', room, peer });
    return this.next((frame) => frame.type === 'joined' || frame.type === 'error');
  }

  /**
   * Round-trips a ping. The server handles a connection's frames in order and writes to each
   * socket in order, so afterwards everything it sent this client before has arrived.
   */
  async sync() {
    this.send({ type: 'ping' });
    await this.next('pong');
  }

  /** Frames received and not yet taken. */
  pending() {
    return [...this.frames];
  }

  close() {
    this.socket.close();
    return this.closed;
  }

  wake() {
    for (const wake of this.wakers.splice(0)) wake();
  }
}

/**
 * A server for one test, closed when the test ends.
 * @param {import('node:test').TestContext} t
 * @param {import('../../signaling/signaling-options.js').SignalingServerOptions} [options]
 */
export async function serverForTest(t, options) {
  const server = await startServer(options);
  t.after(() => server.close());
  return server;
}

/**
 * Connects one client per name and joins each to `room` under that name, in order, so each
 * later peer's `joined` lists the earlier ones and the earlier ones hold its `peer-joined`.
 * @param {{ url: string }} server
 * @param {string} room
 * @param {string[]} names
 */
export async function joinedClients(server, room, ...names) {
  const clients = [];
  for (const name of names) {
    const client = await TestClient.connect(server.url);
    const joined = await client.join(room, name);
    if (joined.type !== 'joined') throw new Error(`${name} could not join ${room}: ${JSON.stringify(joined)}`);
    clients.push(client);
  }
  return clients;
}

/**
 * Sends the request `start` makes (node:http's or node:https's `request`, given the response
 * callback) and reads the response to its end as UTF-8 text.
 * @param {(onResponse: (response: import('node:http').IncomingMessage) => void) => import('node:http').ClientRequest} start
 * @returns {Promise<{ status: number | undefined, headers: import('node:http').IncomingHttpHeaders, body: string }>}
 */
export function responseText(start) {
  return new Promise((resolve, reject) => {
    start((response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}
