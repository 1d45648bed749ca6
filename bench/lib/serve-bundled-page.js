// Serves one bundled script and a page that loads it on 127.0.0.1, for benchmarks run in Chromium.
import { createServer } from 'node:http';
import { build } from 'esbuild';

/**
 * Bundles `entry` (esbuild entry options: `entryPoints` or `stdin`) and serves it as `/bench.js`
 * under a page titled `title`, on a free port of 127.0.0.1.
 * @param {{ entry: Pick<import('esbuild').BuildOptions, 'entryPoints' | 'stdin'>, title: string, headers?: Record<string, string> }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function serveBundledPage({ entry, title, headers = {} }) {
  const bundle = await build({ ...entry, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error' });
  const script = bundle.outputFiles[0].text;
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/bench.js"></script>`;
  const server = createServer((request, response) => {
    const [type, body] = request.url === '/bench.js' ? ['text/javascript', script] : request.url === '/' ? ['text/html', html] : [null, 'not found'];
    response.writeHead(type ? 200 : 404, { 'content-type': type ?? 'text/plain', ...headers });
    response.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${address.port}/`, close: () => new Promise((resolve) => server.close(() => resolve(undefined))) };
}
