// First-load JavaScript and CSS, gzipped (workload 7). Ours: the app built with `vite build` into
// a temporary folder, counting what its index.html loads up front (module scripts, module
// preloads, style sheets); if there is no app yet or its build fails, the library entry bundled
// and minified with esbuild, and the row says so. Theirs: a minimal Yjs + y-webrtc + y-indexeddb
// client bundled and minified with esbuild. Both gzipped at level 9.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { root } from './lib/load-core.js';
import { comparison } from './lib/stats.js';

const TARGET_BYTES = 80 * 1024;

// A Yjs client with the same parts as ours: a document, IndexedDB persistence, WebRTC sync.
const YJS_ENTRY = `
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { WebrtcProvider } from 'y-webrtc';
export function openRoom(room, signaling) {
  const doc = new Y.Doc();
  const persistence = new IndexeddbPersistence(room, doc);
  const provider = new WebrtcProvider(room, doc, { signaling, peerOpts: { config: { iceServers: [] } } });
  return { doc, entities: doc.getMap('entities'), persistence, provider };
}
`;

// Our library surface when there is no app to build: everything a client needs to sync a model.
const LIBRARY_MODULES = [
  'src/index.ts',
  'src/node/index.ts',
  'src/node/ednet-p2p-node.ts',
  'src/crdt/index.ts',
  'src/domain/index.ts',
  'src/models/electoral/index.ts',
  'src/store/index.ts',
  'src/sync/synchronization-engine.ts',
  'src/net/webrtc-transport.ts',
  'src/net/server-based-discovery.ts',
  'src/net/connection-manager.ts',
];

/** @param {string | Uint8Array} contents */
const gzipped = (contents) => gzipSync(contents, { level: 9 }).length;

/**
 * Minified esbuild bundle of an entry module's source, gzipped size in bytes.
 * @param {string} contents
 * @param {'ts' | 'js'} loader
 */
async function esbuildGzipped(contents, loader) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((sum, file) => sum + gzipped(file.contents), 0);
}

/**
 * Builds the app into a temporary folder and sums the gzipped JS and CSS its index.html loads up
 * front. Undefined, with the reason, if there is no app or the build fails.
 * @returns {Promise<{ bytes: number, files: number } | { failed: string }>}
 */
async function appFirstLoad() {
  if (!existsSync(join(root, 'index.html'))) return { failed: 'no index.html' };
  const outDir = mkdtempSync(join(tmpdir(), 'ednet-bundle-bench-'));
  try {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: root });
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    const assets = new Set();
    for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
      const isScript = tag.startsWith('<script') && /type="module"/.test(tag);
      const isLink = /rel="(?:modulepreload|stylesheet)"/.test(tag);
      const url = /(?:src|href)="([^"]+)"/.exec(tag)?.[1];
      if ((isScript || isLink) && url && !/^[a-z]+:/i.test(url)) assets.add(url.replace(/^\.?\//, ''));
    }
    if (!assets.size) return { failed: 'the built index.html loads no script' };
    let bytes = 0;
    for (const asset of assets) bytes += gzipped(readFileSync(join(outDir, asset)));
    // Inline scripts and styles count too.
    bytes += gzipped(html);
    return { bytes, files: assets.size + 1 };
  } catch (error) {
    return { failed: String(/** @type {Error} */ (error).message ?? error).split('\n')[0] };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * Our library bundled as a client uses it: every module listed above that exists and bundles
 * (the node, the electoral model, the IndexedDB store, the WebRTC transport and signaling
 * discovery), the counterpart of the Yjs bundle.
 */
async function libraryBundle() {
  const candidates = LIBRARY_MODULES.filter((path) => existsSync(join(root, path)));
  /** @type {string[]} */
  const included = [];
  for (const path of candidates) {
    try {
      await esbuildGzipped(`export * from './${path}';`, 'ts');
      included.push(path);
    } catch {
      // A module that does not build (yet) is left out and named in the row.
    }
  }
  const bytes = await esbuildGzipped(included.map((path) => `export * from './${path}';`).join('\n'), 'ts');
  return { bytes, included, left: candidates.filter((path) => !included.includes(path)) };
}

/**
 * Runs the measurement (`quick` changes nothing: a size needs one build).
 * @param {{ quick?: boolean }} [_options]
 */
export async function run(_options = {}) {
  const theirs = await esbuildGzipped(YJS_ENTRY, 'js');
  const target = /** @type {const} */ ({ of: 'ours', op: '<', limit: TARGET_BYTES });
  const app = await appFirstLoad();
  const rows = [];
  if ('bytes' in app) {
    rows.push(comparison({ workload: 7, name: 'first-load JS+CSS gzipped: the app (vite build) vs Yjs + y-webrtc + y-indexeddb (esbuild, minified)', unit: 'bytes', ours: app.bytes, theirs, target, extra: { files: app.files } }));
  }
  const library = await libraryBundle();
  const why = 'bytes' in app ? '' : ` — app not measured: ${app.failed}`;
  rows.push(
    comparison({
      workload: 7,
      name: `library JS gzipped: node, model, IndexedDB store, WebRTC transport, signaling discovery (esbuild, minified; ${library.included.length} modules${library.left.length ? `, left out as not building: ${library.left.join(', ')}` : ''}) vs Yjs + y-webrtc + y-indexeddb${why}`,
      unit: 'bytes',
      ours: library.bytes,
      theirs,
      ...('bytes' in app ? {} : { target }),
    }),
  );
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run()) console.log(JSON.stringify({ bench: 'bundle', ...row }));
}
