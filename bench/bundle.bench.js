// First-load JavaScript and CSS, gzipped (workload 7). Ours: the app built with `vite build` into
// a temporary folder: the landing page's first load (what its index.html loads up front: module
// scripts, module preloads, style sheets), a room's first load (that plus the chunks imported when
// a room opens, the WebRTC transport among them) and the whole app; if there is no app yet or its
// build fails, the library entry bundled and minified with esbuild, and the row says so. Theirs: a
// minimal Yjs + y-webrtc + y-indexeddb client bundled and minified with esbuild (simple-peer comes
// with y-webrtc). Both sides gzipped at level 9; brotli (quality 11, what the server sends to
// browsers that accept it) is in the details, for both sides too.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { root } from './lib/load-core.js';
import { comparison } from './lib/stats.js';

const TARGET_BYTES = 80 * 1024;

/**
 * What a fresh room link loads counts from the page's entry through every import, `import()` too
 * (the room page and `openRoomSession` when the room opens, the WebRTC transport once another
 * device is around: deferred, not avoided), except the chunks named here, which load only on other
 * screens or on request: the tabs' views (the elections view is the held room's row), the
 * invitation sheet and share panel with its QR code, and room export and import. A chunk split
 * off later counts unless it is added here, with its reason.
 */
const NOT_WHILE_JOINING = [
  'src/ui/ednet-elections-view.ts',
  'src/ui/ednet-conflicts-panel.ts',
  'src/ui/ednet-model-explorer.ts',
  'src/ui/audit/ednet-audit-view.ts',
  'src/app/ednet-room-details.ts',
  'src/app/ednet-room-people.ts',
  'src/app/ednet-share-panel.ts',
  'src/app/ednet-share-dialog.ts',
  'src/app/ednet-qr-code.ts',
  'src/store/room-file.ts',
];

/** The module of the view a held room shows first (its elections tab). */
const HELD_ROOM_VIEW = 'src/ui/ednet-elections-view.ts';

/** @typedef {{ bytes: number, brotli: number, files: number }} Sizes gzip and brotli bytes of some files */

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
/** @param {string | Uint8Array} contents */
const brotlied = (contents) => brotliCompressSync(contents, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).length;

/**
 * Minified esbuild bundle of an entry module's source, gzipped size in bytes.
 * @param {string} contents
 * @param {'ts' | 'js'} loader
 */
async function esbuildGzipped(contents, loader) {
  return (await esbuildCompressed(contents, loader)).gzip;
}

/**
 * Minified esbuild bundle of an entry module's source, gzipped and brotli sizes in bytes.
 * @param {string} contents
 * @param {'ts' | 'js'} loader
 */
async function esbuildCompressed(contents, loader) {
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
  return {
    gzip: result.outputFiles.reduce((sum, file) => sum + gzipped(file.contents), 0),
    brotli: result.outputFiles.reduce((sum, file) => sum + brotlied(file.contents), 0),
  };
}

/**
 * Gzipped size of a set of built files.
 * @param {string} outDir
 * @param {Iterable<string>} files paths inside outDir
 */
function gzippedFiles(outDir, files) {
  let bytes = 0;
  let brotli = 0;
  let count = 0;
  for (const file of files) {
    const contents = readFileSync(join(outDir, file));
    bytes += gzipped(contents);
    brotli += brotlied(contents);
    count++;
  }
  return { bytes, brotli, files: count };
}

/**
 * Builds the app into a temporary folder (with Vite's manifest) and measures, gzipped:
 * - `landing`: the JS and CSS its index.html loads up front (module scripts, module preloads,
 *   style sheets) and the HTML itself: a first visit to the landing page;
 * - `room`: that, plus every chunk the page imports, statically or with `import()`, except those
 *   of `NOT_WHILE_JOINING`: what a fresh room link loads before its arrival screen shows and
 *   until it has met the first device;
 * - `heldRoom`: `room` plus the elections view, the tab a room this device holds shows first;
 * - `all`: every JS and CSS file of the build (what the service worker precaches for the page).
 * Undefined, with the reason, if there is no app or the build fails.
 * @returns {Promise<{ landing: Sizes, room: Sizes, heldRoom: Sizes, all: Sizes } | { failed: string }>}
 */
async function appFirstLoad() {
  if (!existsSync(join(root, 'index.html'))) return { failed: 'no index.html' };
  const outDir = mkdtempSync(join(tmpdir(), 'ednet-bundle-bench-'));
  try {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--manifest', '--logLevel', 'error'], { cwd: root });
    const html = readFileSync(join(outDir, 'index.html'), 'utf8');
    /** @type {Set<string>} */
    const upFront = new Set();
    for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
      const isScript = tag.startsWith('<script') && /type="module"/.test(tag);
      const isLink = /rel="(?:modulepreload|stylesheet)"/.test(tag);
      const url = /(?:src|href)="([^"]+)"/.exec(tag)?.[1];
      if ((isScript || isLink) && url && !/^[a-z]+:/i.test(url)) upFront.add(url.replace(/^\.?\//, ''));
    }
    if (!upFront.size) return { failed: 'the built index.html loads no script' };
    // Inline scripts and styles count too: the HTML is part of both first loads.
    const htmlBytes = gzipped(html);
    const htmlBrotli = brotlied(html);
    const landing = gzippedFiles(outDir, upFront);

    /** @type {Record<string, { file: string, isEntry?: boolean, imports?: string[], dynamicImports?: string[], css?: string[] }>} */
    const manifest = JSON.parse(readFileSync(join(outDir, '.vite', 'manifest.json'), 'utf8'));
    /** Closure of manifest keys: their files, CSS, static imports and the `import()`s not in `NOT_WHILE_JOINING`. */
    const closure = (/** @type {string[]} */ keys, /** @type {Set<string>} */ files = new Set(), /** @type {Set<string>} */ seen = new Set()) => {
      for (const key of keys) {
        if (seen.has(key) || !manifest[key]) continue;
        seen.add(key);
        files.add(manifest[key].file);
        for (const css of manifest[key].css ?? []) files.add(css);
        closure(manifest[key].imports ?? [], files, seen);
        closure((manifest[key].dynamicImports ?? []).filter((dynamic) => !NOT_WHILE_JOINING.includes(dynamic)), files, seen);
      }
      return files;
    };
    const entries = Object.keys(manifest).filter((key) => manifest[key].isEntry);
    const roomFiles = closure(entries, new Set(upFront));
    const room = gzippedFiles(outDir, roomFiles);
    // A room this device holds shows its elections tab first, whose views load on their own.
    const heldRoomFiles = new Set(roomFiles);
    closure([HELD_ROOM_VIEW], heldRoomFiles);
    const heldRoom = gzippedFiles(outDir, heldRoomFiles);
    const all = gzippedFiles(outDir, Object.values(manifest).flatMap((chunk) => [chunk.file, ...(chunk.css ?? [])]).filter((file, i, list) => list.indexOf(file) === i));
    const withHtml = (/** @type {Sizes} */ sizes) => ({ bytes: sizes.bytes + htmlBytes, brotli: sizes.brotli + htmlBrotli, files: sizes.files + 1 });
    return { landing: withHtml(landing), room: withHtml(room), heldRoom: withHtml(heldRoom), all: withHtml(all) };
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
  const yjs = await esbuildCompressed(YJS_ENTRY, 'js');
  const theirs = yjs.gzip;
  const target = /** @type {const} */ ({ of: 'ours', op: '<', limit: TARGET_BYTES });
  const app = await appFirstLoad();
  const rows = [];
  const brotli = (/** @type {Sizes} */ sizes) => ({ files: sizes.files, 'brotli ours / Yjs': `${sizes.brotli.toLocaleString('en-US')} / ${yjs.brotli.toLocaleString('en-US')}` });
  if ('landing' in app) {
    rows.push(
      comparison({ workload: 7, name: 'landing page first load, JS+CSS+HTML gzipped: what index.html loads up front (vite build; the shell and landing page, no CRDT, storage or network code) vs the whole Yjs + y-webrtc + y-indexeddb stack (esbuild, minified; for information: not like for like)', unit: 'bytes', ours: app.landing.bytes, theirs, extra: brotli(app.landing) }),
      comparison({ workload: 7, name: 'room first load, JS+CSS+HTML gzipped: the landing page plus every chunk a fresh room link imports while its arrival screen shows and it meets the first device (only the chunks of other screens or actions left out), the whole engine with its WebRTC transport (RTCPeerConnection, no simple-peer) vs Yjs + y-webrtc (with simple-peer) + y-indexeddb', unit: 'bytes', ours: app.room.bytes, theirs, target, extra: brotli(app.room) }),
      comparison({ workload: 7, name: 'held room first load, JS+CSS+HTML gzipped: the room first load plus the elections view (the tab a room this device holds shows first) vs Yjs + y-webrtc + y-indexeddb', unit: 'bytes', ours: app.heldRoom.bytes, theirs, target, extra: brotli(app.heldRoom) }),
      comparison({ workload: 7, name: 'whole app, JS+CSS+HTML gzipped: every chunk the build emits (all precached by the service worker) vs Yjs + y-webrtc + y-indexeddb', unit: 'bytes', ours: app.all.bytes, theirs, extra: brotli(app.all) }),
    );
  }
  const library = await libraryBundle();
  const why = 'landing' in app ? '' : ` — app not measured: ${app.failed}`;
  rows.push(
    comparison({
      workload: 7,
      name: `library JS gzipped: node, model, IndexedDB store, WebRTC transport, signaling discovery (esbuild, minified; ${library.included.length} modules${library.left.length ? `, left out as not building: ${library.left.join(', ')}` : ''}) vs Yjs + y-webrtc + y-indexeddb${why}`,
      unit: 'bytes',
      ours: library.bytes,
      theirs,
      ...('landing' in app ? {} : { target }),
    }),
  );
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const row of await run()) console.log(JSON.stringify({ bench: 'bundle', ...row }));
}
