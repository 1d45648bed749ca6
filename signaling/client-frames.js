// Client → server frames arrive as WebSocket messages; the protocol module checks their text.
import { decodeClientFrame as decodeClientFrameText, ErrorCode } from '../src/protocol/signaling-protocol.js';

/** @typedef {import('../src/protocol/signaling-protocol.js').ClientFrame} ClientFrame */
/** @typedef {import('../src/protocol/signaling-protocol.js').Refusal} Refusal */

/**
 * Parses and checks one WebSocket message from a client; never throws.
 * @param {import('ws').RawData} data
 * @param {boolean} isBinary
 * @param {number} maxFrameBytes
 * @returns {ClientFrame | Refusal}
 */
export function decodeClientFrame(data, isBinary, maxFrameBytes) {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (bytes.length > maxFrameBytes) return { code: ErrorCode.frameTooLarge, message: `frame of ${bytes.length} bytes exceeds the limit of ${maxFrameBytes}` };
  if (isBinary) return { code: ErrorCode.badFrame, message: 'binary frames are not accepted: send JSON text' };
  return decodeClientFrameText(bytes.toString('utf8'));
}
