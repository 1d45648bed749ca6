// A coturn TURN server on 127.0.0.1 for the relay tests (installed from the system's packages;
// .ci/run installs it). It authenticates with the TURN REST API secret, as in production, and
// relays between loopback peers, which production must never allow.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The coturn binary: `TURNSERVER_PATH`, else the Debian location. */
export function turnserverPath() {
  return [process.env.TURNSERVER_PATH, '/usr/bin/turnserver'].find((path) => path && existsSync(path));
}

/** A TCP port nobody listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts `turnserver` on a free loopback port with `secret`; resolves once it serves.
 * @param {{ secret: string }} options
 * @returns {Promise<{ url: string, port: number, output: () => string, close: () => Promise<void> }>}
 */
export async function startTurnServer({ secret }) {
  const binary = turnserverPath();
  if (!binary) throw new Error('No turnserver found: install coturn (Debian: `apt-get install -y coturn`) or set TURNSERVER_PATH.');
  const port = await freePort();
  // Relay ports: a range of its own per run, so parallel runs do not collide.
  const minPort = 50_000 + Math.floor(Math.random() * 150) * 100;
  const folder = mkdtempSync(join(tmpdir(), 'ednet-turn-'));
  const child = spawn(
    binary,
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 99}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=test',
      '--no-tls',
      '--no-dtls',
      '--fingerprint',
      '--allow-loopback-peers',
      '--no-multicast-peers',
      '--no-cli',
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
      `--pidfile=${join(folder, 'turnserver.pid')}`,
      `--db=${join(folder, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    const read = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString();
      // Printed once the listeners and relay threads are up.
      if (/Total General servers/.test(output)) resolve(undefined);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`turnserver exited (${code}) before serving:\n${output.slice(-2000)}`)));
  });
  return {
    url: `turn:127.0.0.1:${port}`,
    port,
    output: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
