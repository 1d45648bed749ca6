// The address a signaling client connects from, as the per-address limits count it.
import { isIPv6 } from 'node:net';

/**
 * The client's address: the socket's peer, or with `trustProxy` the last hop a reverse proxy
 * recorded in `X-Forwarded-For` (only a proxy you run may set that; anyone else could forge it).
 * IPv6 addresses count by their /64, which one household or phone is usually given whole.
 * @param {import('node:http').IncomingMessage} request
 * @param {boolean} trustProxy
 */
export function clientAddress(request, trustProxy) {
  let address = request.socket.remoteAddress ?? 'unknown';
  if (trustProxy) {
    const forwarded = request.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((hop) => hop.trim()).filter(Boolean).at(-1);
    if (last) address = last;
  }
  if (address.startsWith('::ffff:') && !address.slice(7).includes(':')) return address.slice(7);
  return isIPv6(address) ? prefix64(address) : address;
}

/** The first four groups of an IPv6 address, `::` expanded. @param {string} address */
function prefix64(address) {
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
