import { openFileLimit } from './connection-caps.js';

/** Writes what the server refuses or survives; `console` fits. @typedef {{ warn(message: string, details?: unknown): void, info?(message: string): void, debug?(message: string, details?: unknown): void }} SignalingLogger */

/**
 * Options of `createSignalingServer`; every limit has a default (docs/protocol.md).
 * @typedef {object} SignalingServerOptions
 * @property {number} [port] TCP port; 0 picks a free one. Default 0. Ignored when `server` is given and listening.
 * @property {string} [host] Interface to listen on. Default `127.0.0.1`.
 * @property {import('node:http').Server} [server] An HTTP server to attach to instead of creating one; closing the signaling server leaves it running.
 * @property {string} [path] Where the WebSocket lives. Default `/signaling`.
 * @property {number} [maxFrameBytes] Largest client frame in bytes. Default 64 KiB.
 * @property {number} [maxRoomsPerConnection] Default 16.
 * @property {number} [maxPeersPerRoom] Default 64.
 * @property {number} [maxPeersPerAddress] Peers of one room connected from one address (IPv6: one /64). Default 16.
 * @property {boolean} [requireDeviceProof] Joining needs an `auth` frame proving the peer id's device key. Default true; false serves clients without device keys (tests of other parts of the protocol).
 * @property {boolean} [trustProxy] Count connections and joins per address by the last `X-Forwarded-For` hop (behind your own reverse proxy only). Default false.
 * @property {number} [messagesPerSecond] Sustained frames per connection. Default 100.
 * @property {number} [messageBurst] Frames a connection may send at once. Default 200.
 * @property {number} [heartbeatIntervalMs] WebSocket ping period; two missed pongs end the connection. Default 15 s.
 * @property {number} [maxRefusedFrames] Malformed frames (recovering over a minute) before closing with 1008. Default 20.
 * @property {number} [maxBufferedBytes] Unsent bytes queued for one connection before it is dropped as too slow. Default 1 MiB.
 * @property {SignalingLogger} [logger] Default: the console, `[signaling]` prefix, no debug output.
 * @property {() => number} [now] Clock in milliseconds for the rate limits. Default `performance.now`.
 * @property {number} [maxConnections] Open WebSocket connections; past it a new one is closed with 1013. Default 10,000.
 * @property {number} [maxConnectionsPerAddress] Open WebSocket connections from one client address; past it a new one is closed with 1008. Default 256: a school or office puts many devices behind one address.
 * @property {number} [maxPendingBytes] Bytes held for unfinished (fragmented) messages of all connections; the connection that takes it past is closed with 1013. Default 64 MiB.
 * @property {number} [fileDescriptorLimit] Open files this process may have. Default: its soft limit (Linux), else unlimited.
 * @property {number} [fileDescriptorReserve] Descriptors kept for plain HTTP and the rest: with fewer left, upgrades are answered 503. Default 256.
 * @property {string} [redisUrl] Share rooms with every instance using this Redis (`redis://host:port`). Default: none, rooms live in this process.
 * @property {number} [presenceTtlMs] With Redis: the peers of an instance that stops are removed this long after its last refresh. Default 15 s.
 */

/** @typedef {Required<Omit<SignalingServerOptions, 'server' | 'redisUrl'>> & { server: import('node:http').Server | undefined, redisUrl: string | undefined }} ResolvedSignalingOptions */

/** Writes to the console with a `[signaling]` prefix and drops debug output. */
export const consoleSignalingLogger = /** @type {SignalingLogger} */ ({
  warn: (message, details) => (details === undefined ? console.warn(`[signaling] ${message}`) : console.warn(`[signaling] ${message}`, details)),
  info: (message) => console.log(`[signaling] ${message}`),
});

const COUNTS = /** @type {const} */ ([
  'maxFrameBytes',
  'maxRoomsPerConnection',
  'maxPeersPerRoom',
  'maxPeersPerAddress',
  'messageBurst',
  'maxRefusedFrames',
  'maxBufferedBytes',
  'maxConnections',
  'maxConnectionsPerAddress',
  'maxPendingBytes',
  'fileDescriptorReserve',
]);
const RATES = /** @type {const} */ (['messagesPerSecond', 'heartbeatIntervalMs', 'presenceTtlMs']);
const PATH_PATTERN = /^\/[A-Za-z0-9_.~/-]*$/;

/**
 * Fills in defaults and checks every option; bad configuration is a programmer error and throws.
 * @param {SignalingServerOptions} options
 * @returns {ResolvedSignalingOptions}
 */
export function resolveSignalingOptions(options = {}) {
  if (typeof options !== 'object' || options === null) throw new TypeError('createSignalingServer: options must be an object');
  const resolved = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    server: options.server,
    path: options.path ?? '/signaling',
    maxFrameBytes: options.maxFrameBytes ?? 64 * 1024,
    maxRoomsPerConnection: options.maxRoomsPerConnection ?? 16,
    maxPeersPerRoom: options.maxPeersPerRoom ?? 64,
    maxPeersPerAddress: options.maxPeersPerAddress ?? 16,
    requireDeviceProof: options.requireDeviceProof ?? true,
    trustProxy: options.trustProxy ?? false,
    messagesPerSecond: options.messagesPerSecond ?? 100,
    messageBurst: options.messageBurst ?? 200,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
    maxRefusedFrames: options.maxRefusedFrames ?? 20,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    logger: options.logger ?? consoleSignalingLogger,
    now: options.now ?? (() => performance.now()),
    maxConnections: options.maxConnections ?? 10_000,
    maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? 256,
    maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
    fileDescriptorLimit: options.fileDescriptorLimit ?? openFileLimit(),
    fileDescriptorReserve: options.fileDescriptorReserve ?? 256,
    redisUrl: options.redisUrl,
    presenceTtlMs: options.presenceTtlMs ?? 15_000,
  };
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new RangeError(`createSignalingServer: port must be an integer from 0 to 65535, got ${resolved.port}`);
  }
  if (typeof resolved.host !== 'string' || resolved.host === '') throw new TypeError('createSignalingServer: host must be a non-empty string');
  if (resolved.server !== undefined && (typeof resolved.server !== 'object' || typeof resolved.server?.on !== 'function')) {
    throw new TypeError('createSignalingServer: server must be an http.Server');
  }
  if (typeof resolved.path !== 'string' || !PATH_PATTERN.test(resolved.path)) {
    throw new TypeError(`createSignalingServer: path must start with / and hold only [A-Za-z0-9_.~/-], got ${JSON.stringify(resolved.path)}`);
  }
  for (const name of COUNTS) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`createSignalingServer: ${name} must be a positive integer, got ${value}`);
  }
  for (const name of RATES) {
    const value = resolved[name];
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`createSignalingServer: ${name} must be a positive number, got ${value}`);
  }
  if (resolved.maxBufferedBytes < 2 * resolved.maxFrameBytes) {
    // Otherwise one relayed frame of the largest size could mark its recipient as a slow reader.
    throw new RangeError(`createSignalingServer: maxBufferedBytes (${resolved.maxBufferedBytes}) must be at least twice maxFrameBytes (${resolved.maxFrameBytes})`);
  }
  // setInterval silently turns a period above 2^31-1 ms into 1 ms: a heartbeat storm.
  if (resolved.heartbeatIntervalMs > 2 ** 31 - 1) throw new RangeError('createSignalingServer: heartbeatIntervalMs must be below 2^31 ms');
  for (const name of /** @type {const} */ (['requireDeviceProof', 'trustProxy'])) {
    if (typeof resolved[name] !== 'boolean') throw new TypeError(`createSignalingServer: ${name} must be true or false`);
  }
  if (typeof resolved.logger?.warn !== 'function') throw new TypeError('createSignalingServer: logger needs a warn method');
  if (typeof resolved.now !== 'function') throw new TypeError('createSignalingServer: now must be a function');
  const { fileDescriptorLimit: fds, fileDescriptorReserve: reserve } = resolved;
  if (fds !== Infinity && (!Number.isSafeInteger(fds) || fds <= reserve)) {
    throw new RangeError(`createSignalingServer: fileDescriptorLimit must be an integer above fileDescriptorReserve (${reserve}), got ${fds}`);
  }
  if (typeof resolved.trustProxy !== 'boolean') throw new TypeError('createSignalingServer: trustProxy must be a boolean');
  if (resolved.redisUrl !== undefined && (typeof resolved.redisUrl !== 'string' || !/^rediss?:\/\/./.test(resolved.redisUrl))) {
    throw new TypeError(`createSignalingServer: redisUrl must be a redis:// or rediss:// URL, got ${JSON.stringify(resolved.redisUrl)}`);
  }
  return resolved;
}

/** The limits as the `welcome` frame announces them. @param {ResolvedSignalingOptions} options */
export function announcedLimits(options) {
  return {
    maxFrameBytes: options.maxFrameBytes,
    maxRoomsPerConnection: options.maxRoomsPerConnection,
    maxPeersPerRoom: options.maxPeersPerRoom,
    maxPeersPerAddress: options.maxPeersPerAddress,
    messagesPerSecond: options.messagesPerSecond,
    messageBurst: options.messageBurst,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  };
}
