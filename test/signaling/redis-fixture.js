import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Long enough for a slow, shared machine: waits end on events, this only stops a hung test. */
const START_PATIENCE_MS = 20_000;

/** A free TCP port on 127.0.0.1, as the kernel picks it. @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a throwaway `redis-server` on a free loopback port, without persistence.
 * @returns {Promise<{ url: string, port: number, stop(): Promise<void> }>}
 */
export async function startRedis() {
  let lastError;
  // The port is free when probed; another process may take it before redis binds: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(port);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** @param {number} port */
function launch(port) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within ${START_PATIENCE_MS} ms: ${output}`)), START_PATIENCE_MS);
    const fail = (/** @type {Error} */ error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', (error) => fail(new Error(`could not run redis-server (is it installed?): ${error.message}`)));
    const early = (/** @type {number | null} */ code) => fail(new Error(`redis-server exited with ${code}: ${output}`));
    child.once('exit', early);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.off('exit', early);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        url: `redis://127.0.0.1:${port}`,
        port,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
  });
}
