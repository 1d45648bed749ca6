// Signaling load: how much one instance holds per connection (open, joined to a room of 8), and
// what the cap on unfinished messages does when every connection starts a 250 KiB fragmented
// message and never finishes it (the attack of issue 14: 2,000 of them grew the server by 547 MiB).
// The server runs in a child process; clients are plain `ws` sockets in this one.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { device } from '../test/signaling/signaling-device.js';

const INSTANCE = fileURLToPath(new URL('./lib/signaling-instance.js', import.meta.url));
const MIB = 1024 * 1024;

/** @param {Record<string, unknown>} options */
async function startInstance(options) {
  const child = fork(INSTANCE, [], { execArgv: ['--expose-gc'], env: { ...process.env, SIGNALING_OPTIONS: JSON.stringify(options) } });
  /** @type {{ url: string }} */
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the signaling instance exited with ${code}`)));
  });
  return {
    url: ready.url,
    /** @returns {Promise<Record<string, any>>} */
    stats: () =>
      new Promise((resolve) => {
        child.once('message', resolve);
        child.send('stats');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.disconnect();
      }),
  };
}

/**
 * Opens a connection as a new device, proves it (the server's default), joins `room` and waits
 * for `joined`. @param {string} url @param {string} room
 */
function joinedClient(url, room) {
  const as = device();
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === 'welcome') socket.send(JSON.stringify(as.proof(frame.challenge)));
      else if (frame.type === 'authenticated') socket.send(JSON.stringify({ type: 'join', room, peer: as.tab('tab00001') }));
      else if (frame.type === 'joined') resolve(socket);
      else if (frame.type === 'error') reject(new Error(frame.message));
    });
  });
}

/** @param {{ quick?: boolean }} options */
export async function run({ quick = false } = {}) {
  const connections = quick ? 200 : 2000;
  const instance = await startInstance({ maxConnectionsPerAddress: connections + 10, maxConnections: connections + 10 });
  const rows = [];
  try {
    const before = await instance.stats();
    const started = performance.now();
    /** @type {WebSocket[]} */
    const sockets = [];
    // In batches, so the listen backlog is never the limit being measured.
    for (let i = 0; i < connections; i += 100) {
      const batch = Array.from({ length: Math.min(100, connections - i) }, (_, j) => joinedClient(instance.url, String(Math.floor((i + j) / 8)).padStart(32, 'A')));
      sockets.push(...(/** @type {WebSocket[]} */ (await Promise.all(batch))));
    }
    const seconds = (performance.now() - started) / 1000;
    const joined = await instance.stats();
    rows.push({
      name: `signaling: memory per open connection joined to a room of 8 (${connections} connections, one instance)`,
      unit: 'KiB',
      value: (joined.rss - before.rss) / 1024 / connections,
      heapPerConnectionKiB: (joined.heapUsed - before.heapUsed) / 1024 / connections,
      connectAndJoinPerSecond: Math.round(connections / seconds),
      runs: 1,
    });

    const piece = `{"type":"ping","pad":"${'x'.repeat(250 * 1024)}`;
    let closedBy1013 = 0;
    for (const socket of sockets) {
      socket.on('close', (code) => {
        if (code === 1013) closedBy1013++;
      });
      socket.send(piece, { fin: false });
    }
    // Wait until the server has seen every piece: held bytes stop growing and refusals are in.
    let held = -1;
    let stats = await instance.stats();
    while (stats.pendingBytes !== held) {
      held = stats.pendingBytes;
      await new Promise((resolve) => setTimeout(resolve, 500));
      stats = await instance.stats();
    }
    rows.push({
      name: `signaling: memory while ${connections} connections each hold an unfinished 250 KiB message (cap maxPendingBytes 64 MiB)`,
      unit: 'MiB',
      value: (stats.rss - joined.rss) / MIB,
      heldMiB: stats.pendingBytes / MIB,
      closedBy1013,
      runs: 1,
    });
    for (const socket of sockets) socket.terminate();
  } finally {
    await instance.stop();
  }
  return rows;
}
