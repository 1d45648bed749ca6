// A web-test-runner plugin that runs the real signaling server (signaling/signaling-server.js) on
// 127.0.0.1 for the browser tests, and tells them where it is:
//   GET /__signaling                    → {"url": "ws://127.0.0.1:PORT/signaling"}, shared by all tests
//   GET /__signaling/private/new        → {"id", "url"}: a server of the caller's own
//   GET /__signaling/private/ID/stop    → stops it (its port is kept for a restart)
//   GET /__signaling/private/ID/start   → starts it again on the same port
// Private servers let a test stop and restart "the server" without disturbing other test files.
import { createSignalingServer } from '../../signaling/signaling-server.js';

/** Drops the server's routine output; warnings still show. */
const quiet = { warn: (/** @type {string} */ message) => console.warn(`[signaling] ${message}`) };

/**
 * @param {{ limits?: Omit<import('../../signaling/signaling-options.js').SignalingServerOptions, 'port' | 'host' | 'server'> }} [options]
 * @returns {import('@web/dev-server-core').Plugin}
 */
export function signalingServerPlugin(options = {}) {
  /** @type {import('../../signaling/signaling-server.js').SignalingServer | undefined} */
  let shared;
  /** @type {Map<string, { port: number, server: import('../../signaling/signaling-server.js').SignalingServer | undefined }>} */
  const privates = new Map();
  let nextId = 1;
  // Without device proofs: these tests join under made-up ids (the proofs have tests of their own).
  const start = (/** @type {number} */ port) =>
    createSignalingServer({ requireDeviceProof: false, ...options.limits, port, host: '127.0.0.1', logger: quiet });
  const json = (/** @type {unknown} */ value) => ({
    body: JSON.stringify(value),
    type: 'application/json',
    headers: { 'cache-control': 'no-store' },
  });

  return {
    name: 'signaling-server',
    async serverStart() {
      shared = await start(0);
    },
    async serverStop() {
      await shared?.close();
      for (const entry of privates.values()) await entry.server?.close();
      privates.clear();
    },
    async serve(context) {
      if (context.path === '/__signaling') return shared ? json({ url: shared.url }) : undefined;
      const match = /^\/__signaling\/private\/(?:(new)|(\d+)\/(stop|start))$/.exec(context.path);
      if (!match) return undefined;
      if (match[1]) {
        const server = await start(0);
        const id = String(nextId++);
        privates.set(id, { port: server.port, server });
        return json({ id, url: server.url });
      }
      const entry = privates.get(match[2] ?? '');
      if (!entry) return json({ error: 'no such server' });
      if (match[3] === 'stop') {
        await entry.server?.close();
        entry.server = undefined;
      } else {
        entry.server ??= await start(entry.port);
      }
      return json({ id: match[2], url: `ws://127.0.0.1:${entry.port}/signaling` });
    },
  };
}
