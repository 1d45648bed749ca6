import { readFileSync } from 'node:fs';

/** @typedef {import('./signaling-options.js').ResolvedSignalingOptions} ResolvedSignalingOptions */

/**
 * A refusal of a new connection: as a WebSocket close (the handshake completes, then the server
 * closes with `code` and `reason`, which browsers show) or, when file descriptors run short, as an
 * HTTP status on the upgrade, which costs nothing more.
 * @typedef {{ close: { code: number, reason: string } } | { http: { status: number, text: string } }} Refusal
 */

/** Close codes of the caps (RFC 6455, IANA registry). */
export const CapCloseCode = Object.freeze({ policy: 1008, tryAgainLater: 1013 });

/**
 * How many bytes `ws` holds for a socket's unfinished message: bytes of a frame not yet complete,
 * plus the fragments of a message not yet finished. Read from `ws`'s receiver (8.x), which keeps
 * both counts; undefined if a future `ws` stops keeping them (then the wire count is used).
 * @param {import('ws').WebSocket} socket
 * @returns {number | undefined}
 */
function heldByReceiver(socket) {
  const receiver = /** @type {any} */ (socket)._receiver;
  const buffered = receiver?._bufferedBytes;
  const fragments = receiver?._messageLength;
  return typeof buffered === 'number' && typeof fragments === 'number' ? buffered + fragments : undefined;
}

/**
 * The caps on connections and on memory held for them (docs/protocol.md, "Caps"): total open
 * WebSocket connections, connections per client address, bytes held for unfinished (fragmented)
 * messages in total, and file descriptors. Per connection, `ws`'s `maxPayload` already bounds what
 * one unfinished message may hold.
 */
export class ConnectionCaps {
  /** @param {ResolvedSignalingOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Map<string, number>} address → open WebSocket connections */
    this.perAddress = new Map();
    this.connections = 0;
    /** TCP connections open on the HTTP server: each holds a file descriptor. */
    this.sockets = 0;
    this.pendingBytes = 0;
    /** Part of `pendingBytes` held by connections already being closed for the cap: soon freed. */
    this.closingBytes = 0;
    this.refused = { connections: 0, perAddress: 0, fileDescriptors: 0, pendingBytes: 0 };
  }

  /**
   * Counts the server's TCP connections, and stops Node from accepting past the descriptor limit.
   * @param {import('node:http').Server} server
   */
  watch(server) {
    const onConnection = (/** @type {import('node:net').Socket} */ socket) => {
      this.sockets++;
      socket.once('close', () => this.sockets--);
    };
    server.on('connection', onConnection);
    const limit = this.options.fileDescriptorLimit;
    // Past this, Node closes new connections at once rather than the process running out of descriptors.
    if (limit !== Infinity && !Number.isFinite(server.maxConnections)) server.maxConnections = Math.max(1, limit - Math.ceil(this.options.fileDescriptorReserve / 4));
    return () => server.off('connection', onConnection);
  }

  /**
   * Decides on an upgrade request before any WebSocket exists for it.
   * @param {string} address
   * @returns {Refusal | undefined}
   */
  admit(address) {
    const { maxConnections, maxConnectionsPerAddress, fileDescriptorLimit, fileDescriptorReserve } = this.options;
    if (this.sockets > fileDescriptorLimit - fileDescriptorReserve) {
      this.refused.fileDescriptors++;
      // Descriptors are kept for plain HTTP (/healthz, the app's pages): no WebSocket is made.
      return { http: { status: 503, text: 'Service Unavailable: the server is at its connection limit' } };
    }
    if (this.connections >= maxConnections) {
      this.refused.connections++;
      return { close: { code: CapCloseCode.tryAgainLater, reason: `server full: at most ${maxConnections} connections` } };
    }
    if ((this.perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) {
      this.refused.perAddress++;
      return { close: { code: CapCloseCode.policy, reason: `too many connections from your address (at most ${maxConnectionsPerAddress})` } };
    }
    return undefined;
  }

  /**
   * Counts an admitted WebSocket until it closes, and watches what it holds for unfinished messages.
   * `overflow` is called when a chunk it received took the total over `maxPendingBytes`.
   * @param {string} address
   * @param {import('ws').WebSocket} socket
   * @param {import('node:stream').Duplex} wire the TCP socket under it
   * @param {() => void} overflow
   */
  track(address, socket, wire, overflow) {
    this.connections++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    let held = 0;
    // Used only if the receiver's counts are not there: bytes since the last whole message.
    let sinceMessage = 0;
    let overflowed = false;
    const update = (/** @type {number} */ now) => {
      this.pendingBytes += now - held;
      if (overflowed) this.closingBytes += now - held;
      held = now;
    };
    socket.on('message', () => {
      sinceMessage = 0;
      update(heldByReceiver(socket) ?? 0);
    });
    // Added after `ws`'s own listener, so `ws` has already parsed the chunk when this runs.
    const onData = (/** @type {Buffer} */ chunk) => {
      sinceMessage += chunk.length;
      update(heldByReceiver(socket) ?? sinceMessage);
      // Bytes of connections already closing are about to be freed: no reason to close more.
      if (!overflowed && held > 0 && this.pendingBytes - this.closingBytes > this.options.maxPendingBytes) {
        overflowed = true;
        this.closingBytes += held;
        this.refused.pendingBytes++;
        // Read nothing more from it: what it holds now is the most it will hold until it is cut.
        wire.pause();
        overflow();
      }
    };
    wire.on('data', onData);
    socket.once('close', () => {
      wire.off('data', onData);
      update(0);
      this.connections--;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left === 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
  }

  /** Counts for monitoring and tests. */
  stats() {
    return { openSockets: this.sockets, pendingBytes: this.pendingBytes, refusedConnections: { ...this.refused } };
  }
}

/**
 * This process's soft limit on open files, from /proc on Linux; Infinity where it cannot be read
 * (then only `maxConnections` bounds the connections).
 * @returns {number}
 */
export function openFileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const limit = Number(soft);
    return soft !== undefined && Number.isSafeInteger(limit) && limit > 0 ? limit : Infinity;
  } catch {
    return Infinity;
  }
}
