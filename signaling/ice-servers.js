// STUN/TURN servers for the app's peer connections, from the server's environment, served at
// `GET /ice-servers` (docs/production.md). TURN credentials follow the TURN REST API scheme that
// coturn implements with `use-auth-secret`: short-lived, so a leaked one expires by itself.
import { createHmac, randomBytes } from 'node:crypto';

/** Where the app asks for its ICE servers. */
export const ICE_SERVERS_PATH = '/ice-servers';
/** Lifetime of a TURN credential unless `TURN_TTL` says otherwise: long enough for a meeting, short enough to expire soon after. */
export const DEFAULT_TURN_TTL_SECONDS = 12 * 3600;

/**
 * @typedef {object} IceConfig
 * @property {string[]} stunUrls STUN URLs (scheme stun or stuns), served as they are.
 * @property {string[]} turnUrls TURN URLs (scheme turn or turns); served with fresh credentials when `turnSecret` is set.
 * @property {string | undefined} turnSecret coturn's `static-auth-secret`.
 * @property {number} turnTtlSeconds Lifetime of each credential.
 * @property {RTCIceServerLike[]} staticServers Servers given whole (`ICE_SERVERS`), served as they are.
 * @property {'all' | 'relay'} transportPolicy `relay` makes browsers use the TURN relay only (hides their addresses from each other).
 */

/** @typedef {{ urls: string | string[], username?: string, credential?: string }} RTCIceServerLike */

const STUN_URL = /^stuns?:[^\s,]+$/;
const TURN_URL = /^turns?:[^\s,]+$/;
const MAX_SERVERS = 16;

/**
 * Reads the ICE configuration from environment variables; bad configuration throws (the server
 * must not start with a relay nobody can use).
 * @param {Record<string, string | undefined>} env
 * @returns {IceConfig}
 */
export function iceConfigFromEnv(env) {
  const stunUrls = urlList(env.STUN_URLS, STUN_URL, 'STUN_URLS', 'STUN URL (scheme stun or stuns, then host and port)');
  const turnUrls = urlList(env.TURN_URLS, TURN_URL, 'TURN_URLS', 'TURN URL (scheme turn or turns, then host, port and optionally ?transport=udp or tcp)');
  const turnSecret = env.TURN_SECRET || undefined;
  if (turnUrls.length > 0 && turnSecret === undefined) throw new Error('TURN_URLS needs TURN_SECRET (the static-auth-secret of the TURN server)');
  if (turnSecret !== undefined && turnUrls.length === 0) throw new Error('TURN_SECRET is set but TURN_URLS is empty');
  if (turnSecret !== undefined && turnSecret.length < 16) throw new Error('TURN_SECRET must have at least 16 characters');
  const ttl = env.TURN_TTL === undefined || env.TURN_TTL === '' ? DEFAULT_TURN_TTL_SECONDS : Number(env.TURN_TTL);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 24 * 3600) throw new Error(`TURN_TTL must be whole seconds from 60 to 604800, got ${JSON.stringify(env.TURN_TTL)}`);
  const policy = env.ICE_TRANSPORT_POLICY || 'all';
  if (policy !== 'all' && policy !== 'relay') throw new Error(`ICE_TRANSPORT_POLICY must be all or relay, got ${JSON.stringify(policy)}`);
  if (policy === 'relay' && turnUrls.length === 0 && !(env.ICE_SERVERS ?? '').includes('turn')) {
    throw new Error('ICE_TRANSPORT_POLICY=relay needs a TURN server (TURN_URLS or ICE_SERVERS)');
  }
  return { stunUrls, turnUrls, turnSecret, turnTtlSeconds: ttl, staticServers: staticServers(env.ICE_SERVERS), transportPolicy: policy };
}

/** The configuration of a server given none: no ICE servers, peers on one network only. */
export const NO_ICE_SERVERS = /** @type {IceConfig} */ (
  Object.freeze({ stunUrls: [], turnUrls: [], turnSecret: undefined, turnTtlSeconds: DEFAULT_TURN_TTL_SECONDS, staticServers: [], transportPolicy: 'all' })
);

/**
 * The `GET /ice-servers` answer: `{iceServers, iceTransportPolicy, expiresAt}`, with a fresh TURN
 * credential (`username` = `<unix expiry>:<random id>`, `credential` =
 * base64(HMAC-SHA1(secret, username))). `expiresAt` is in Unix seconds, or null when nothing expires.
 * @param {IceConfig} config
 * @param {number} [nowMs]
 */
export function iceServersAnswer(config, nowMs = Date.now()) {
  /** @type {RTCIceServerLike[]} */
  const iceServers = [...config.staticServers];
  if (config.stunUrls.length > 0) iceServers.push({ urls: config.stunUrls });
  let expiresAt = null;
  if (config.turnUrls.length > 0 && config.turnSecret !== undefined) {
    expiresAt = Math.floor(nowMs / 1000) + config.turnTtlSeconds;
    const username = `${expiresAt}:${randomBytes(9).toString('base64url')}`;
    iceServers.push({ urls: config.turnUrls, username, credential: turnCredential(config.turnSecret, username) });
  }
  return { iceServers, iceTransportPolicy: config.transportPolicy, expiresAt };
}

/** The TURN REST API password of `username`. @param {string} secret @param {string} username */
export function turnCredential(secret, username) {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/**
 * @param {string | undefined} text
 * @param {RegExp} pattern
 * @param {string} name
 * @param {string} example
 */
function urlList(text, pattern, name, example) {
  if (text === undefined || text.trim() === '') return [];
  const urls = text.split(/[\s,]+/).filter((url) => url !== '');
  for (const url of urls) if (!pattern.test(url)) throw new Error(`${name}: ${JSON.stringify(url)} is not a ${example}`);
  if (urls.length > MAX_SERVERS) throw new Error(`${name}: at most ${MAX_SERVERS} URLs`);
  return urls;
}

/** `ICE_SERVERS`: a JSON array of RTCIceServer objects, for servers with their own credentials. @param {string | undefined} text */
function staticServers(text) {
  if (text === undefined || text.trim() === '') return [];
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('ICE_SERVERS is not JSON: give an array of RTCIceServer objects, each with "urls" (STUN or TURN URLs)');
  }
  if (!Array.isArray(raw) || raw.length > MAX_SERVERS) throw new Error(`ICE_SERVERS must be a JSON array of at most ${MAX_SERVERS} servers`);
  return raw.map((server, index) => {
    const where = `ICE_SERVERS[${index}]`;
    if (typeof server !== 'object' || server === null || Array.isArray(server)) throw new Error(`${where} is not an object`);
    const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((url) => typeof url === 'string' && (STUN_URL.test(url) || TURN_URL.test(url)))) {
      throw new Error(`${where}.urls must be stun:/turn: URLs`);
    }
    const relay = urls.some((url) => TURN_URL.test(url));
    if (relay && (typeof server.username !== 'string' || typeof server.credential !== 'string')) throw new Error(`${where}: a TURN server needs username and credential`);
    /** @type {RTCIceServerLike} */
    const entry = { urls: server.urls };
    if (typeof server.username === 'string') entry.username = server.username;
    if (typeof server.credential === 'string') entry.credential = server.credential;
    return entry;
  });
}
