// One port for https and a redirect: someone who types the server's address without `https://`
// (the natural first try on a phone) gets sent to the https page instead of an empty answer.
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

/** The first byte of every TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;
/** A connection that sends nothing within this time is dropped (it holds a socket otherwise). */
const FIRST_BYTE_TIMEOUT_MS = 10_000;
/** `host` or `host:port`, a bracketed IPv6 address allowed; nothing that could change the URL's path. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Listens in front of `tlsServer`: a connection that starts with a TLS handshake goes to it, any
 * other gets a plain-http answer redirecting to the same address over https (400 if its Host
 * header is missing or malformed). Listen on, and close, the returned server instead of
 * `tlsServer`; its connection limit follows `tlsServer.maxConnections` when that is set.
 * @param {import('node:https').Server} tlsServer
 * @returns {import('node:net').Server}
 */
export function httpsFront(tlsServer) {
  const redirect = createHttpServer((request, response) => {
    const host = request.headers.host;
    if (!host || !HOST_HEADER.test(host)) {
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      response.end('This server speaks https only.\n');
      return;
    }
    const path = request.url?.startsWith('/') ? request.url : '/';
    response.writeHead(308, { Location: `https://${host}${path}`, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    response.end(`This server speaks https only: https://${host}${path}\n`);
  });
  const front = createNetServer({ pauseOnConnect: true }, (socket) => {
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.once('readable', () => {
      const first = socket.read(1);
      if (first === null) return; // closed before sending anything
      socket.setTimeout(0);
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? tlsServer : redirect).emit('connection', socket);
    });
  });
  front.on('listening', () => {
    if (Number.isFinite(tlsServer.maxConnections)) front.maxConnections = tlsServer.maxConnections;
  });
  front.on('close', () => redirect.closeAllConnections());
  return front;
}
