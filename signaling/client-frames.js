// Client → server frames of the signaling protocol (docs/protocol.md), parsed once at the edge.

/** Peer ids: 1–64 of `[A-Za-z0-9_-]`; the same pattern as `NODE_ID_PATTERN` in src/net/wire-guards.ts. */
export const PEER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Rooms: 1–128 of `[A-Za-z0-9_.:-]`; the same pattern as `ROOM_PATTERN` in src/net/wire-guards.ts. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Signal data deeper than this is refused: nothing legitimate nests so deep, and relaying it would overflow the stack. */
export const MAX_DATA_DEPTH = 32;

/** The codes of `error` frames, exactly as docs/protocol.md lists them. */
export const ErrorCode = Object.freeze({
  badJson: 'bad-json',
  badFrame: 'bad-frame',
  unknownType: 'unknown-type',
  frameTooLarge: 'frame-too-large',
  tooManyRooms: 'too-many-rooms',
  roomFull: 'room-full',
  peerIdTaken: 'peer-id-taken',
  alreadyJoined: 'already-joined',
  notInRoom: 'not-in-room',
  unknownPeer: 'unknown-peer',
  rateLimited: 'rate-limited',
  unavailable: 'unavailable',
  authFailed: 'auth-failed',
  notAuthenticated: 'not-authenticated',
  notYourId: 'not-your-id',
  tooManyFromAddress: 'too-many-from-address',
});

/**
 * @typedef {{ type: 'join', room: string, peer: string }
 *   | { type: 'leave', room: string }
 *   | { type: 'signal', room: string, to: string, data: unknown }
 *   | { type: 'auth', key: string, signature: string }
 *   | { type: 'ping' }} ClientFrame
 */

/** A refused frame: the `error` frame's fields. @typedef {{ code: string, message: string, ref?: string }} Refusal */

const REF_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

/** True when `decodeClientFrame` refused the frame. */
export const isRefusal = (/** @type {ClientFrame | Refusal} */ value) => 'code' in value;

/**
 * Parses and checks one WebSocket message from a client; never throws. Extra fields are ignored,
 * so a `from` a client puts on a signal never reaches anyone.
 * @param {import('ws').RawData} data
 * @param {boolean} isBinary
 * @param {number} maxFrameBytes
 * @returns {ClientFrame | Refusal}
 */
export function decodeClientFrame(data, isBinary, maxFrameBytes) {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (bytes.length > maxFrameBytes) {
    return refuse(ErrorCode.frameTooLarge, `frame of ${bytes.length} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  if (isBinary) return refuse(ErrorCode.badFrame, 'binary frames are not accepted: send JSON text');
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return refuse(ErrorCode.badJson, 'frame is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse(ErrorCode.badFrame, 'frame is not a JSON object');
  const frame = /** @type {Record<string, unknown>} */ (raw);
  const type = frame.type;
  const ref = typeof type === 'string' && REF_PATTERN.test(type) ? type : undefined;
  switch (type) {
    case 'join':
      if (!isRoom(frame.room)) return refuse(ErrorCode.badFrame, 'join needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      if (!isPeer(frame.peer)) return refuse(ErrorCode.badFrame, 'join needs a peer id of 1–64 [A-Za-z0-9_-]', ref);
      return { type, room: frame.room, peer: frame.peer };
    case 'leave':
      if (!isRoom(frame.room)) return refuse(ErrorCode.badFrame, 'leave needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      return { type, room: frame.room };
    case 'signal':
      if (!isRoom(frame.room)) return refuse(ErrorCode.badFrame, 'signal needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      if (!isPeer(frame.to)) return refuse(ErrorCode.badFrame, 'signal needs a recipient peer id `to` of 1–64 [A-Za-z0-9_-]', ref);
      if (!('data' in frame)) return refuse(ErrorCode.badFrame, 'signal needs data', ref);
      if (depthExceeds(frame.data, MAX_DATA_DEPTH)) return refuse(ErrorCode.badFrame, `signal data nests deeper than ${MAX_DATA_DEPTH} levels`, ref);
      return { type, room: frame.room, to: frame.to, data: frame.data };
    case 'auth':
      if (!isShortText(frame.key) || !isShortText(frame.signature)) return refuse(ErrorCode.badFrame, 'auth needs key and signature, base64url text', ref);
      return { type, key: frame.key, signature: frame.signature };
    case 'ping':
      return { type };
    default:
      if (typeof type !== 'string') return refuse(ErrorCode.badFrame, type === undefined ? 'frame has no type' : 'frame type must be a string');
      return refuse(ErrorCode.unknownType, `unknown frame type ${JSON.stringify(type).slice(0, 60)}`, ref);
  }
}

/** @returns {value is string} */
const isRoom = (/** @type {unknown} */ value) => typeof value === 'string' && ROOM_PATTERN.test(value);
/** @returns {value is string} */
const isShortText = (/** @type {unknown} */ value) => typeof value === 'string' && value.length > 0 && value.length <= 200;
/** @returns {value is string} */
const isPeer = (/** @type {unknown} */ value) => typeof value === 'string' && PEER_PATTERN.test(value);

/**
 * @param {string} code
 * @param {string} message
 * @param {string} [ref]
 * @returns {Refusal}
 */
function refuse(code, message, ref) {
  return ref === undefined ? { code, message } : { code, message, ref };
}

/** True when `value` nests objects or arrays more than `budget` levels deep; stops early, so it is cheap on hostile input. */
function depthExceeds(/** @type {unknown} */ value, /** @type {number} */ budget) {
  if (typeof value !== 'object' || value === null) return false;
  if (budget === 0) return true;
  for (const child of Object.values(value)) if (depthExceeds(child, budget - 1)) return true;
  return false;
}
