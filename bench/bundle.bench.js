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
 * The modules the app imports, and waits for, to open a room (src/app/room-code.ts): the room page
 * and `openRoomSession`. Other chunks the shell imports on demand (the invitation sheet, the
 * elections view) are not waited for.
 */
const ROOM_MODULES = ['src/app/room-views.ts', 'src/app/open-room-session.ts'];

/**
 * What a fresh room loads with `import()` while it joins: the WebRTC transport
 * (src/app/deferred-webrtc-transport.ts) loads once another device is around, which a room link
 * opened on a new device waits for under its arrival screen. Deferred, not avoided: it counts.
 */
const JOIN_MODULES = ['src/net/webrtc-transport.ts'];

/**
 * Loaded by every page after its `load` event, to register the service worker
 * (src/app/pwa-updates.ts): while a fresh room joins, so it counts in the room's rows. Its manifest
 * key is a path into node_modules, found by this name.
 */
const AFTER_LOAD_PACKAGE = 'workbox-window';

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
 * - `room`: that, plus the chunks the app loads with `import()` to open a room (`ROOM_MODULES`,
 *   with their static imports and CSS), to join it (`JOIN_MODULES`) and after the page's load
 *   event (`AFTER_LOAD_PACKAGE`): what a fresh room link
 *   loads before its arrival screen shows and until it has met the first device; chunks loaded
 *   with `import()` only on other screens or on request (the views of the tabs, the invitation
 *   sheet, the QR code, room files) are not counted;
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

    /** @type {Record<string, { file: string, imports?: string[], dynamicImports?: string[], css?: string[] }>} */
    const manifest = JSON.parse(readFileSync(join(outDir, '.vite', 'manifest.json'), 'utf8'));
    /** Static closure of manifest keys: their files, static imports and CSS. */
    const closure = (/** @type {string[]} */ keys, /** @type {Set<string>} */ files = new Set(), /** @type {Set<string>} */ seen = new Set()) => {
      for (const key of keys) {
        if (seen.has(key) || !manifest[key]) continue;
        seen.add(key);
        files.add(manifest[key].file);
        for (const css of manifest[key].css ?? []) files.add(css);
        closure(manifest[key].imports ?? [], files, seen);
      }
      return files;
    };
    const roomFiles = new Set(upFront);
    const afterLoad = Object.keys(manifest).filter((key) => `/${key}`.includes(`/node_modules/${AFTER_LOAD_PACKAGE}/`));
    closure([...ROOM_MODULES, ...JOIN_MODULES, ...afterLoad].filter((key) => manifest[key]), roomFiles);
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
      comparison({ workload: 7, name: 'room first load, JS+CSS+HTML gzipped: the landing page plus the chunks imported when a room opens and joins (a fresh room link: its arrival screen, then the first device met, and the service worker registration after the load event), the whole engine with its WebRTC transport (RTCPeerConnection, no simple-peer) vs Yjs + y-webrtc (with simple-peer) + y-indexeddb', unit: 'bytes', ours: app.room.bytes, theirs, target, extra: brotli(app.room) }),
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
