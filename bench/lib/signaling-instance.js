// A signaling server in a process of its own, so its memory is measured apart from the clients.
// Started with IPC by bench/signaling.bench.js: sends `{ url }` once listening, answers `'stats'`
// with its memory and counts (after a garbage collection when run with --expose-gc).
import { createSignalingServer } from '../../signaling/signaling-server.js';

const options = JSON.parse(process.env.SIGNALING_OPTIONS ?? '{}');
const server = await createSignalingServer({ ...options, logger: { warn: () => undefined } });
process.on('message', (message) => {
  if (message !== 'stats') return;
  globalThis.gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.send?.({ rss, heapUsed, external, arrayBuffers, ...server.stats() });
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
process.send?.({ url: server.url });
