import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { httpsFront } from './https-front.js';
import { attachSignalingServer, closeHttpServer, listen } from './signaling-server.js';
import { ICE_SERVERS_PATH, NO_ICE_SERVERS, iceConfigFromEnv, iceServersAnswer } from './ice-servers.js';
import { answer, createStaticHandler } from './static-files.js';
import { reachableUrls, tlsFromEnv } from './tls-certificate.js';

/** The built app, next to this folder. */
export const DEFAULT_ROOT = fileURLToPath(new URL('../dist/', import.meta.url));
/** Where the signaling WebSocket lives on the app server; the browser client derives it from the page's origin. */
export const SIGNALING_PATH = '/signaling';

/**
 * @typedef {object} AppServerOptions
 * @property {number} [port] Default 8080; 0 picks a free port.
 * @property {string} [host] Default `127.0.0.1`.
 * @property {string} [root] The built app. Default `dist/`.
 * @property {Omit<import('./signaling-options.js').SignalingServerOptions, 'port' | 'host' | 'server' | 'path'>} [signaling] Limits and logger of the signaling server.
 * @property {import('./ice-servers.js').IceConfig} [ice] STUN/TURN servers served at `/ice-servers`. Default none.
 * @property {{ cert: string, key: string }} [tls] PEM certificate and key: serve https and wss on the port. Default plain http.
 */

/**
 * @typedef {object} AppServer
 * @property {number} port
 * @property {string} url The app, e.g. `http://127.0.0.1:8080/` (`https://` with `tls`).
 * @property {string} signalingUrl e.g. `ws://127.0.0.1:8080/signaling` (`wss://` with `tls`).
 * @property {() => import('./signaling-server.js').SignalingStats} stats
 * @property {() => Promise<void>} close
 */

/**
 * One HTTP server for everything `npm start` offers: the built app, `GET /healthz`, and the
 * signaling WebSocket at `/signaling`, all on one port.
 * @param {AppServerOptions} [options]
 * @returns {Promise<AppServer>}
 */
export async function createAppServer({ port = 8080, host = '127.0.0.1', root = DEFAULT_ROOT, signaling: signalingOptions = {}, ice = NO_ICE_SERVERS, tls } = {}) {
  const serveStatic = await createStaticHandler(root);
  /** @type {import('node:http').RequestListener} */
  const handle = (request, response) => {
    const pathname = request.url?.split('?', 1)[0];
    if (pathname === '/healthz') {
      answer(response, request, 200, 'ok');
      return;
    }
    if (pathname === ICE_SERVERS_PATH) {
      answerJson(response, request, iceServersAnswer(ice));
      return;
    }
    if (pathname === SIGNALING_PATH) {
      answer(response, request, 426, 'Upgrade Required: this is a WebSocket endpoint', { Upgrade: 'websocket' });
      return;
    }
    serveStatic(request, response).catch((/** @type {unknown} */ error) => {
      console.warn('[app] serving a request failed', error);
      if (!response.headersSent) answer(response, request, 500, 'Internal Server Error');
      else response.destroy();
    });
  };
  const secure = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : undefined;
  const server = secure ?? createServer(handle);
  const signaling = attachSignalingServer(server, { ...signalingOptions, path: SIGNALING_PATH });
  // With TLS, what listens is a front that hands TLS to `secure` and redirects plain http.
  const listener = secure ? httpsFront(secure) : server;
  try {
    await signaling.ready;
    await listen(listener, port, host);
  } catch (error) {
    await signaling.close();
    throw error;
  }
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('createAppServer: the server is not listening on TCP');
  const origin = `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    port: address.port,
    url: `${tls ? 'https' : 'http'}://${origin}/`,
    signalingUrl: `${tls ? 'wss' : 'ws'}://${origin}${SIGNALING_PATH}`,
    stats: signaling.stats,
    async close() {
      await signaling.close();
      await (secure ? closeFront(listener, secure) : closeHttpServer(server));
    },
  };
}

/**
 * Stops the front accepting and resolves once every connection it took is closed (idle
 * keep-alive ones are dropped at once).
 * @param {import('node:net').Server} front
 * @param {import('node:https').Server} server
 * @returns {Promise<void>}
 */
function closeFront(front, server) {
  return new Promise((resolve, reject) => {
    front.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

/**
 * A JSON answer nobody caches: it may carry a TURN credential.
 * @param {import('node:http').ServerResponse} response
 * @param {import('node:http').IncomingMessage} request
 * @param {unknown} value
 */
function answerJson(response, request, value) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    answer(response, request, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    return;
  }
  const body = JSON.stringify(value);
  response.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** @param {string} text */
function parsePort(text) {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new RangeError(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  return port;
}

/**
 * Exit status for a configuration the operator must fix (sysexits' EX_CONFIG): service managers
 * can be told not to restart on it (systemd `RestartPreventExitStatus=78`), so a bad certificate
 * stops the service with its message instead of restarting it forever.
 */
export const EXIT_CONFIG = 78;

/**
 * `node signaling/serve.js [dir]`: serves `dir` (default `dist/`) on HOST:PORT (default
 * 127.0.0.1:8080); over https with TLS_CERT and TLS_KEY, or with a self-signed certificate when
 * HOST reaches beyond this machine; with REDIS_URL set, shares signaling rooms with every instance
 * using that Redis; with TRUST_PROXY=1, takes client addresses from the reverse proxy's X-Forwarded-For.
 */
async function main() {
  let config;
  let app;
  const host = process.env.HOST || '127.0.0.1';
  try {
    const [root = DEFAULT_ROOT] = process.argv.slice(2);
    config = {
      root,
      host,
      port: parsePort(process.env.PORT ?? '8080'),
      ice: iceConfigFromEnv(process.env),
      tls: await tlsFromEnv(process.env, host, { warn: (message) => console.warn(message) }),
      // Behind your own reverse proxy, count clients by the address it forwards (X-Forwarded-For).
      signaling: { redisUrl: process.env.REDIS_URL || undefined, trustProxy: process.env.TRUST_PROXY === '1' || process.env.TRUST_PROXY === 'true' },
    };
  } catch (error) {
    // Restarting changes nothing here: the configuration must be fixed first.
    console.error(`EDNet P2P could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(EXIT_CONFIG);
  }
  try {
    app = await createAppServer(config);
  } catch (error) {
    console.error(`EDNet P2P could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const { tls } = config;
  console.log(`EDNet P2P: ${app.url} (signaling at ${app.signalingUrl}${process.env.REDIS_URL ? ', rooms shared through Redis' : ''})`);
  if (tls) {
    const others = reachableUrls(host, app.port, 'https').filter((url) => url !== app.url);
    if (others.length) console.log(`Other devices of this network: open ${others.join(' or ')}`);
    if (tls.source === 'files') console.log(`Certificate: ${tls.certPath}, valid until ${tls.validTo.toISOString().slice(0, 10)}`);
    else {
      console.log(`Certificate: self-signed, ${tls.source === 'created' ? 'made now' : 'made on an earlier start'}, kept in ${tls.certPath}`);
      console.log('Browsers warn about it once: accept it after checking that the fingerprint they show is');
    }
    console.log(`SHA-256 fingerprint: ${tls.fingerprint}`);
  }
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** True when node was started on this file, rather than it being imported. */
function runDirectly() {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (runDirectly()) await main();
