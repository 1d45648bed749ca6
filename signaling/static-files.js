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
      await sendFile(request, response, file.path, file.size, file.modified, target.pathname.startsWith(HASHED_PREFIX) ? IMMUTABLE : REVALIDATE, extra);
      return;
    }
    if (isNavigation(request) && !target.pathname.startsWith(HASHED_PREFIX)) {
      const page = await stat(index);
      await sendFile(request, response, index, page.size, page.mtime, REVALIDATE, { ...pageHeaders, Vary: 'Accept' });
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

/**
 * @param {import('node:http').IncomingMessage} request
 * @param {import('node:http').ServerResponse} response
 * @param {string} path
 * @param {number} size
 * @param {Date} modified
 * @param {string} cacheControl
 * @param {Record<string, string>} [extra]
 * @returns {Promise<void>}
 */
function sendFile(request, response, path, size, modified, cacheControl, extra = {}) {
  const etag = `W/"${size.toString(16)}-${Math.floor(modified.getTime()).toString(16)}"`;
  const headers = {
    'Content-Type': /** @type {Record<string, string>} */ (CONTENT_TYPES)[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'Cache-Control': cacheControl,
    ETag: etag,
    'Last-Modified': modified.toUTCString(),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers);
    response.end();
    return Promise.resolve();
  }
  response.writeHead(200, { ...headers, 'Content-Length': size });
  if (request.method === 'HEAD') {
    response.end();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    // A client that goes away mid-file, or a file removed under us, ends this response only.
    pipeline(createReadStream(path), response, () => resolve());
  });
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
