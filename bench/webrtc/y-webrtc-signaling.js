// Runs y-webrtc's own signaling server (its bin/server.js, unchanged) in this process, bound to
// 127.0.0.1 on a free port: the server listens on every interface at `PORT`, so `listen` is
// narrowed to loopback here. Prints `listening <port>` once it accepts connections.
// Usage: node bench/webrtc/y-webrtc-signaling.js
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const listen = http.Server.prototype.listen;
/** @this {http.Server} @param {unknown[]} args */
http.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') process.stdout.write(`listening ${address.port}\n`);
  });
  return /** @type {(...args: unknown[]) => http.Server} */ (listen).call(this, 0, '127.0.0.1', args.find((arg) => typeof arg === 'function'));
};
// The server prints where it listens to the console; the line above says it with the real port.
console.log = () => {};
await import(pathToFileURL(join(root, 'node_modules', 'y-webrtc', 'bin', 'server.js')).href);
