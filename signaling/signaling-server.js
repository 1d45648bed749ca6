import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { clientAddress } from './client-address.js';
import { ConnectionCaps } from './connection-caps.js';
import { InProcessRoomBus } from './in-process-room-bus.js';
import { RedisRoomBus } from './redis-room-bus.js';
import { SignalingHub } from './signaling-hub.js';
import { resolveSignalingOptions } from './signaling-options.js';

/** @typedef {import('./signaling-options.js').SignalingServerOptions} SignalingServerOptions */
/** @typedef {ReturnType<SignalingHub['stats']> & ReturnType<ConnectionCaps['stats']>} SignalingStats */

/**
 * A running signaling server.
 * @typedef {object} SignalingServer
 * @property {number} port
 * @property {string} url The WebSocket URL, e.g. `ws://127.0.0.1:8080/signaling`.
 * @property {() => Promise<void>} close Closes every connection, and the HTTP server if it made it.
 * @property {() => SignalingStats} stats
 */

/**
 * Frames up to this many times the frame limit are read and answered with `frame-too-large`;
 * larger ones make `ws` close the connection (1009) without buffering them whole.
 */
const PAYLOAD_CAP_FACTOR = 4;
const MAX_FRAGMENTS = 64;
const MAX_BUFFERED_CHUNKS = 4096;

/**
 * Starts the signaling server of docs/protocol.md: on its own HTTP server listening on
 * `host:port`, or on `server` when given (listening on `host:port` first if it is not yet).
 * @param {SignalingServerOptions} [options]
 * @returns {Promise<SignalingServer>}
 */
export async function createSignalingServer(options = {}) {
  const resolved = resolveSignalingOptions(options);
  const ownServer = resolved.server === undefined;
  const server = resolved.server ?? createServer((request, response) => answerPlainHttp(request, response, resolved.path));
  const signaling = attachSignalingServer(server, resolved);
  try {
    await signaling.ready;
    if (!server.listening) await listen(server, resolved.port, resolved.host);
  } catch (error) {
    await signaling.close();
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('createSignalingServer: the server is not listening on TCP');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    port: address.port,
    url: `ws://${host}:${address.port}${resolved.path}`,
    stats: signaling.stats,
    async close() {
      await signaling.close();
      if (ownServer) await closeHttpServer(server);
    },
  };
}

/**
 * Serves the signaling WebSocket on an existing HTTP server, at `options.path`; the caller listens
 * and closes the HTTP server. `close` detaches and closes every signaling connection. `ready`
 * settles once the room bus is connected (at once without Redis); it rejects if Redis cannot be reached.
 * @param {import('node:http').Server} server
 * @param {SignalingServerOptions} [options] `port`, `host` and `server` are ignored
 * @returns {{ ready: Promise<void>, close(): Promise<void>, stats(): SignalingStats }}
 */
export function attachSignalingServer(server, options = {}) {
  const resolved = resolveSignalingOptions({ ...options, server });
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: PAYLOAD_CAP_FACTOR * resolved.maxFrameBytes,
    // A message in more pieces than this, or its bytes in more reads, is no browser's: each piece
    // costs an object on top of its bytes (ws allows 16,384 and 262,144 by default).
    maxFragments: MAX_FRAGMENTS,
    maxBufferedChunks: MAX_BUFFERED_CHUNKS,
    perMessageDeflate: false,
    clientTracking: false,
  });
  sockets.on('error', (error) => resolved.logger.warn('signaling WebSocket server error', error));
  const bus = resolved.redisUrl
    ? new RedisRoomBus({ url: resolved.redisUrl, maxPeersPerRoom: resolved.maxPeersPerRoom, presenceTtlMs: resolved.presenceTtlMs, logger: resolved.logger })
    : new InProcessRoomBus({ maxPeersPerRoom: resolved.maxPeersPerRoom });
  const hub = new SignalingHub(resolved, bus);
  const caps = new ConnectionCaps(resolved);
  const unwatch = caps.watch(server);
  let closed = false;
  /** @type {(request: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void} */
  const onUpgrade = (request, socket, head) => {
    if (pathOf(request.url) !== resolved.path) {
      // Another upgrade handler may own that path; when there is none, answer instead of hanging.
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (closed) {
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const address = clientAddress(request, resolved.trustProxy);
    const refused = caps.admit(address);
    if (refused && 'http' in refused) {
      refuseUpgrade(socket, refused.http.status, refused.http.text);
      return;
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => {
      caps.track(address, webSocket, socket, () => hub.refuseOverload(webSocket, 'server busy: too much unfinished data held'));
      if (refused) hub.refuseConnection(webSocket, refused.close.code, refused.close.reason);
      else hub.accept(webSocket, address);
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    ready: bus.ready(),
    stats: () => ({ ...hub.stats(), ...caps.stats() }),
    async close() {
      if (closed) return;
      closed = true;
      server.off('upgrade', onUpgrade);
      unwatch();
      await hub.close();
      await bus.close();
      await new Promise((resolve) => sockets.close(() => resolve(undefined)));
    },
  };
}

/** The path of a request target, or undefined when it does not parse. */
function pathOf(/** @type {string | undefined} */ target) {
  try {
    return new URL(target ?? '', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/**
 * The signaling server's own HTTP answers: health check, and a hint for plain requests.
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {string} path
 */
function answerPlainHttp(request, response, path) {
  const pathname = pathOf(request.url);
  const [status, body] =
    pathname === '/healthz' ? [200, 'ok\n'] : pathname === path ? [426, 'Upgrade Required: this is a WebSocket endpoint\n'] : [404, 'Not Found\n'];
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...(status === 426 ? { Upgrade: 'websocket' } : {}) });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** @param {import('node:stream').Duplex} socket @param {number} status @param {string} text */
function refuseUpgrade(socket, status, text) {
  socket.on('error', () => undefined);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
}

/**
 * @param {import('node:net').Server} server
 * @param {number} port
 * @param {string} host
 * @returns {Promise<void>}
 */
export function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const fail = (/** @type {Error} */ error) => reject(error);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/**
 * Stops accepting, drops idle keep-alive connections, and resolves once the server is closed.
 * @param {import('node:http').Server} server
 * @returns {Promise<void>}
 */
export function closeHttpServer(server) {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
