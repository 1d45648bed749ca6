// The signaling protocol (docs/protocol.md), once, for both ends: the server (signaling/, Node, no
// build step) checks client frames with it, the app (src/net) checks server frames with it. Plain
// JavaScript with JSDoc types, so Node runs it as is and TypeScript checks it.
import { ID_PATTERN, isId } from '../util/ids.js';

/** The protocol version a server announces in `welcome`. */
export const PROTOCOL_VERSION = 2;

/** Peer ids are the project's ids (`ID_PATTERN`). */
export const PEER_PATTERN = ID_PATTERN;
/** Rooms (signaling topics): 1–128 of `[A-Za-z0-9_.:-]`. */
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

/** @typedef {import('../crdt/dot.js').NodeId} NodeId */

/**
 * Frames a client sends.
 * @typedef {Readonly<{ type: 'join', room: string, peer: NodeId }>
 *   | Readonly<{ type: 'leave', room: string }>
 *   | Readonly<{ type: 'signal', room: string, to: NodeId, data: unknown }>
 *   | Readonly<{ type: 'auth', key: string, signature: string }>
 *   | Readonly<{ type: 'ping' }>} ClientFrame
 */

/**
 * Frames the server sends, as a client accepts them.
 * @typedef {Readonly<{ type: 'welcome', protocol: number, challenge: string | undefined }>
 *   | Readonly<{ type: 'authenticated', device: string }>
 *   | Readonly<{ type: 'joined', room: string, peer: NodeId, peers: readonly NodeId[] }>
 *   | Readonly<{ type: 'peer-joined', room: string, peer: NodeId }>
 *   | Readonly<{ type: 'peer-left', room: string, peer: NodeId, reason: string }>
 *   | Readonly<{ type: 'signal', room: string, from: NodeId, data: unknown }>
 *   | Readonly<{ type: 'pong' }>
 *   | Readonly<{ type: 'error', code: string, message: string, ref: string | undefined }>} ServerFrame
 */

/** A client frame the server refused: the `error` frame's fields. @typedef {{ code: string, message: string, ref?: string }} Refusal */
/** A server frame the client refused, and why. @typedef {{ readonly error: string }} FrameError */

/** @returns {value is string} */
export const isRoom = (/** @type {unknown} */ value) => typeof value === 'string' && ROOM_PATTERN.test(value);
/** @returns {value is NodeId} */
const isPeer = (/** @type {unknown} */ value) => isId(value);
/** @returns {value is Record<string, unknown>} */
const isObject = (/** @type {unknown} */ value) => typeof value === 'object' && value !== null && !Array.isArray(value);
/** @returns {value is string} */
const isTextUpTo = (/** @type {unknown} */ value, /** @type {number} */ max) => typeof value === 'string' && value.length <= max;

const REF_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * True when `decodeClientFrame` refused the frame.
 * @param {ClientFrame | Refusal} value
 * @returns {value is Refusal}
 */
export const isRefusal = (value) => 'code' in value;

/**
 * Parses and checks one client frame's JSON text; never throws. Extra fields are ignored, so a
 * `from` a client puts on a signal never reaches anyone.
 * @param {string} text
 * @returns {ClientFrame | Refusal}
 */
export function decodeClientFrame(text) {
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return refuse(ErrorCode.badJson, 'frame is not valid JSON');
  }
  if (!isObject(raw)) return refuse(ErrorCode.badFrame, 'frame is not a JSON object');
  const type = raw.type;
  const ref = typeof type === 'string' && REF_PATTERN.test(type) ? type : undefined;
  switch (type) {
    case 'join':
      if (!isRoom(raw.room)) return refuse(ErrorCode.badFrame, 'join needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      if (!isPeer(raw.peer)) return refuse(ErrorCode.badFrame, 'join needs a peer id of 1–64 [A-Za-z0-9_-]', ref);
      return { type, room: raw.room, peer: raw.peer };
    case 'leave':
      if (!isRoom(raw.room)) return refuse(ErrorCode.badFrame, 'leave needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      return { type, room: raw.room };
    case 'signal':
      if (!isRoom(raw.room)) return refuse(ErrorCode.badFrame, 'signal needs a room of 1–128 [A-Za-z0-9_.:-]', ref);
      if (!isPeer(raw.to)) return refuse(ErrorCode.badFrame, 'signal needs a recipient peer id `to` of 1–64 [A-Za-z0-9_-]', ref);
      if (!('data' in raw)) return refuse(ErrorCode.badFrame, 'signal needs data', ref);
      if (depthExceeds(raw.data, MAX_DATA_DEPTH)) return refuse(ErrorCode.badFrame, `signal data nests deeper than ${MAX_DATA_DEPTH} levels`, ref);
      return { type, room: raw.room, to: raw.to, data: raw.data };
    case 'auth':
      if (!isShortText(raw.key) || !isShortText(raw.signature)) return refuse(ErrorCode.badFrame, 'auth needs key and signature, base64url text', ref);
      return { type, key: raw.key, signature: raw.signature };
    case 'ping':
      return { type };
    default:
      if (typeof type !== 'string') return refuse(ErrorCode.badFrame, type === undefined ? 'frame has no type' : 'frame type must be a string');
      return refuse(ErrorCode.unknownType, `unknown frame type ${JSON.stringify(type).slice(0, 60)}`, ref);
  }
}

/** Rooms hold at most 64 peers by default; a list far longer than any limit is refused. */
const MAX_PEERS_LISTED = 10_000;
const MAX_TEXT = 500;
/** A challenge to sign: base64url, 16 to 64 bytes. */
const CHALLENGE = /^[A-Za-z0-9_-]{22,86}$/;

/**
 * Parses and checks one server frame; never throws.
 * @param {unknown} text
 * @param {number} maxBytes
 * @returns {ServerFrame | FrameError}
 */
export function decodeServerFrame(text, maxBytes) {
  if (typeof text !== 'string') return { error: 'binary frame' };
  if (text.length > maxBytes) return { error: `frame of ${text.length} characters exceeds ${maxBytes}` };
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isObject(raw)) return { error: 'not an object' };
  switch (raw.type) {
    case 'welcome': {
      if (typeof raw.protocol !== 'number') return { error: 'welcome without protocol' };
      const { challenge } = raw;
      if (challenge !== undefined && !(typeof challenge === 'string' && CHALLENGE.test(challenge))) return { error: 'welcome with a malformed challenge' };
      return { type: 'welcome', protocol: raw.protocol, challenge };
    }
    case 'authenticated':
      return isTextUpTo(raw.device, 100) ? { type: 'authenticated', device: raw.device } : { error: 'authenticated without a device' };
    case 'joined': {
      const { room, peer, peers } = raw;
      if (!isRoom(room) || !isPeer(peer)) return { error: 'joined without a valid room and peer' };
      if (!Array.isArray(peers) || peers.length > MAX_PEERS_LISTED || !peers.every(isPeer)) return { error: 'joined with an invalid peer list' };
      return { type: 'joined', room, peer, peers };
    }
    case 'peer-joined': {
      const { room, peer } = raw;
      return isRoom(room) && isPeer(peer) ? { type: 'peer-joined', room, peer } : { error: 'peer-joined without a valid room and peer' };
    }
    case 'peer-left': {
      const { room, peer, reason } = raw;
      if (!isRoom(room) || !isPeer(peer)) return { error: 'peer-left without a valid room and peer' };
      return { type: 'peer-left', room, peer, reason: isTextUpTo(reason, MAX_TEXT) ? reason : 'left' };
    }
    case 'signal': {
      const { room, from } = raw;
      if (!isRoom(room) || !isPeer(from) || !('data' in raw)) return { error: 'signal without a valid room, sender and data' };
      return { type: 'signal', room, from, data: raw.data };
    }
    case 'pong':
      return { type: 'pong' };
    case 'error': {
      const { code, message, ref } = raw;
      if (!isTextUpTo(code, 100)) return { error: 'error frame without a code' };
      return { type: 'error', code, message: isTextUpTo(message, MAX_TEXT) ? message : '', ref: isTextUpTo(ref, 100) ? ref : undefined };
    }
    default:
      return { error: `unknown frame type ${JSON.stringify(raw.type)?.slice(0, 40)}` };
  }
}

/**
 * True when `decodeServerFrame` refused the frame.
 * @param {ServerFrame | FrameError} value
 * @returns {value is FrameError}
 */
export const isFrameError = (value) => 'error' in value;

/** @returns {value is string} */
const isShortText = (/** @type {unknown} */ value) => typeof value === 'string' && value.length > 0 && value.length <= 200;

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
