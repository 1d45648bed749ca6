// A Vite build plugin that writes a brotli (`.br`) and a gzip (`.gz`) copy beside every text file
// of the build, so the server (signaling/static-files.js) can send them as they are, with
// `Content-Encoding`, instead of compressing on every request or not at all.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** What compresses; images and fonts are compressed formats already. */
export const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.svg', '.json', '.webmanifest', '.txt', '.map']);

/** Below this, a compressed copy saves less than the headers it costs. */
const MIN_BYTES = 512;

/**
 * Compresses every compressible file under `dir` (recursively) with brotli at its highest quality
 * and gzip at level 9; a copy that is not smaller than the file is not written. Returns the
 * relative paths compressed.
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
export async function precompressDirectory(dir) {
  /** @type {string[]} */
  const done = [];
  for (const path of await filesUnder(dir)) {
    if (!COMPRESSIBLE.has(extname(path).toLowerCase())) continue;
    const contents = await readFile(path);
    if (contents.length < MIN_BYTES) continue;
    const [br, gz] = await Promise.all([
      brotli(contents, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: contents.length,
        },
      }),
      gzipAsync(contents, { level: 9 }),
    ]);
    if (br.length < contents.length) await writeFile(`${path}.br`, br);
    if (gz.length < contents.length) await writeFile(`${path}.gz`, gz);
    done.push(relative(dir, path));
  }
  return done;
}

/** @param {string} dir @returns {Promise<string[]>} */
async function filesUnder(dir) {
  /** @type {string[]} */
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // Dotfiles (Vite's .vite/manifest.json) are never served.
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) files.push(path);
  }
  return files;
}

/**
 * The plugin. It runs last, after vite-plugin-pwa has written the service worker and the
 * manifest in its own `closeBundle`, so those are compressed too.
 * @returns {import('vite').Plugin}
 */
export function precompress() {
  /** @type {string} */
  let outDir = '';
  return {
    name: 'ednet:precompress',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      async handler() {
        await precompressDirectory(outDir);
      },
    },
  };
}
