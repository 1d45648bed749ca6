import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream';

/** Content types by file extension; anything else is served as bytes. */
export const CONTENT_TYPES = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
});

/** Text formats, which the build writes compressed copies of (scripts/precompress-plugin.js). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.webmanifest', '.txt', '.svg']);

/** Vite puts content-hashed files here: a name never changes meaning, so they may be cached for good. */
const HASHED_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Everything else (index.html, sw.js, the manifest) is revalidated, so a new build is seen at once. */
const REVALIDATE = 'no-cache';

/** @typedef {(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => Promise<void>} RequestHandler */

/**
 * Serves the built single-page app in `root`: its files with their content types and cache
 * policy, and `index.html` for page navigations to paths that are no file (client-side routes).
 * Nothing outside `root` is ever served, by `..`, encoded separators, or symbolic links.
 * @param {string} root
 * @returns {Promise<RequestHandler>}
 */
export async function createStaticHandler(root) {
  let realRoot;
  try {
    realRoot = await realpath(root);
    if (!(await stat(join(realRoot, 'index.html'))).isFile()) throw new Error('index.html is not a file');
  } catch (error) {
    throw new Error(`no built app in ${root} (${error instanceof Error ? error.message : String(error)}): run \`npm run build\` first`);
  }
  const index = join(realRoot, 'index.html');
  const pageHeaders = await pageSecurityHeaders(index);

  return async (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      answer(response, request, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const target = resolveTarget(request.url);
    if (target === undefined) {
      answer(response, request, 400, 'Bad Request: invalid path');
      return;
    }
    const file = target.hidden ? undefined : await findFile(realRoot, target.segments);
    if (file) {
      const extra = extname(file.path).toLowerCase() === '.html' ? pageHeaders : {};
      await sendFile(request, response, realRoot, file, target.pathname.startsWith(HASHED_PREFIX) ? IMMUTABLE : REVALIDATE, extra);
      return;
    }
    if (isNavigation(request) && !target.pathname.startsWith(HASHED_PREFIX)) {
      const page = await stat(index);
      await sendFile(request, response, realRoot, { path: index, size: page.size, modified: page.mtime }, REVALIDATE, pageHeaders, ['Accept']);
      return;
    }
    answer(response, request, 404, 'Not Found', { Vary: 'Accept' });
  };
}

/**
 * Headers for HTML pages. The Content-Security-Policy is the one the app declares in its
 * index.html (one source of truth), plus what only works as a header: `frame-ancestors`, so no
 * other site can frame the app and trick a user into clicking through it.
 * @param {string} index
 * @returns {Promise<Record<string, string>>}
 */
async function pageSecurityHeaders(index) {
  const html = await readFile(index, 'utf8');
  const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  const policy = meta ? `${meta[1].trim().replace(/;\s*$/, '')}; frame-ancestors 'none'` : "frame-ancestors 'none'";
  return { 'Content-Security-Policy': policy, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' };
}

/**
 * The decoded path segments of a request target, or undefined when it cannot name a file under
 * the root: undecodable, or a segment that is `.`/`..` or hides a separator or NUL once decoded.
 * @param {string | undefined} url
 */
function resolveTarget(url) {
  let pathname;
  try {
    pathname = new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
  const segments = [];
  for (const raw of pathname.split('/').filter((segment) => segment !== '')) {
    let segment;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  // Dotfiles are never part of a build; they are more likely secrets left in the folder.
  return { pathname, segments, hidden: segments.some((segment) => segment.startsWith('.')) };
}

/**
 * The regular file at `segments` under `realRoot` when it is really inside it (links resolved).
 * @param {string} realRoot
 * @param {string[]} segments
 */
async function findFile(realRoot, segments) {
  if (segments.length === 0) segments = ['index.html'];
  try {
    const path = await realpath(join(realRoot, ...segments));
    if (!path.startsWith(realRoot + sep)) return undefined;
    const info = await stat(path);
    return info.isFile() ? { path, size: info.size, modified: info.mtime } : undefined;
  } catch {
    return undefined;
  }
}

/** A page load or link follow, which gets the app's shell; scripts and images get a real 404. */
function isNavigation(/** @type {import('node:http').IncomingMessage} */ request) {
  return request.headers['sec-fetch-mode'] === 'navigate' || (request.headers.accept ?? '').includes('text/html');
}

/** @typedef {{ path: string, size: number, modified: Date }} FoundFile */

/**
 * Sends `file`, or its precompressed copy (`.br`, `.gz`, written by the build) when the browser
 * accepts that encoding. Responses of a file that has copies vary by `Accept-Encoding`, and each
 * encoding has its own ETag, so no cache hands brotli to a browser that asked for gzip.
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {string} realRoot
 * @param {FoundFile} file
 * @param {string} cacheControl
 * @param {Record<string, string>} [extra]
 * @param {string[]} [vary] request headers the answer depends on besides Accept-Encoding
 * @returns {Promise<void>}
 */
async function sendFile(request, response, realRoot, file, cacheControl, extra = {}, vary = []) {
  const variants = await compressedVariants(realRoot, file.path);
  const encoding = variants.size > 0 ? preferredEncoding(request.headers['accept-encoding'], [...variants.keys()]) : undefined;
  const sent = encoding === undefined ? file : /** @type {FoundFile} */ (variants.get(encoding));
  const etag = `W/"${sent.size.toString(16)}-${Math.floor(sent.modified.getTime()).toString(16)}${encoding ? `-${encoding}` : ''}"`;
  const varyBy = variants.size > 0 ? [...vary, 'Accept-Encoding'] : vary;
  /** @type {Record<string, string>} */
  const headers = {
    'Content-Type': /** @type {Record<string, string>} */ (CONTENT_TYPES)[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Cache-Control': cacheControl,
    ETag: etag,
    'Last-Modified': file.modified.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
    ...(varyBy.length ? { Vary: varyBy.join(', ') } : {}),
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    ...extra,
  };
  if (matchesEtag(request.headers['if-none-match'], etag)) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, 'Content-Length': sent.size });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  await new Promise((resolve) => {
    // A client that goes away mid-file, or a file removed under us, ends this response only.
    pipeline(createReadStream(sent.path), response, () => resolve(undefined));
  });
}

/** Content codings the build writes beside a file, by the suffix it gives them; best first. */
const PRECOMPRESSED = /** @type {const} */ ([
  ['br', '.br'],
  ['gzip', '.gz'],
]);

/**
 * The precompressed copies of `path` that exist, as regular files inside the root.
 * @param {string} realRoot
 * @param {string} path
 * @returns {Promise<Map<string, FoundFile>>}
 */
async function compressedVariants(realRoot, path) {
  /** @type {Map<string, FoundFile>} */
  const found = new Map();
  if (!COMPRESSIBLE.has(extname(path).toLowerCase())) return found;
  for (const [encoding, suffix] of PRECOMPRESSED) {
    try {
      const real = await realpath(path + suffix);
      if (!real.startsWith(realRoot + sep)) continue;
      const info = await stat(real);
      if (info.isFile()) found.set(encoding, { path: real, size: info.size, modified: info.mtime });
    } catch {
      // No such copy: the file goes as it is, or in another encoding.
    }
  }
  return found;
}

/**
 * The content coding to answer with, given a request's `Accept-Encoding` (RFC 9110 §12.5.3) and
 * the codings at hand in order of preference: the one with the highest q-value above 0, the
 * server's order breaking ties; undefined for the file as it is. `*` stands for any coding the
 * header does not name; a missing header asks for none.
 * @param {string | undefined} header
 * @param {readonly string[]} available
 * @returns {string | undefined}
 */
export function preferredEncoding(header, available) {
  if (!header) return undefined;
  /** @type {Map<string, number>} */
  const weights = new Map();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((piece) => piece.trim());
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([01](?:\.\d{0,3})?)$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    weights.set(name.toLowerCase(), Math.min(q, 1));
  }
  let best;
  let bestQ = 0;
  for (const encoding of available) {
    const q = weights.get(encoding) ?? weights.get('*') ?? 0;
    if (q > bestQ) {
      best = encoding;
      bestQ = q;
    }
  }
  return best;
}

/**
 * Whether an `If-None-Match` header names `etag` (or is `*`); weak comparison, as for GET.
 * @param {string | undefined} header
 * @param {string} etag
 */
function matchesEtag(header, etag) {
  if (!header) return false;
  const bare = (/** @type {string} */ tag) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag));
}

/**
 * @param {import('node:http').ServerResponse} response
 * @param {import('node:http').IncomingMessage} request
 * @param {number} status
 * @param {string} text
 * @param {Record<string, string>} [extra]
 */
export function answer(response, request, status, text, extra = {}) {
  const body = `${text}\n`;
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
