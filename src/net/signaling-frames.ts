import type { NodeId } from '../crdt/dot.js';
import { isNodeId, isRecord, isRoom, isStringUpTo } from './wire-guards.js';

/** Frames the signaling server sends (docs/protocol.md), as the client accepts them. */
export type ServerFrame =
  | { readonly type: 'welcome'; readonly protocol: number; readonly challenge: string | undefined }
  | { readonly type: 'authenticated'; readonly device: string }
  | { readonly type: 'joined'; readonly room: string; readonly peer: NodeId; readonly peers: readonly NodeId[] }
  | { readonly type: 'peer-joined'; readonly room: string; readonly peer: NodeId }
  | { readonly type: 'peer-left'; readonly room: string; readonly peer: NodeId; readonly reason: string }
  | { readonly type: 'signal'; readonly room: string; readonly from: NodeId; readonly data: unknown }
  | { readonly type: 'pong' }
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly ref: string | undefined };

/** Frames the client sends. */
export type ClientFrame =
  | { readonly type: 'join'; readonly room: string; readonly peer: NodeId }
  | { readonly type: 'leave'; readonly room: string }
  | { readonly type: 'signal'; readonly room: string; readonly to: NodeId; readonly data: unknown }
  | { readonly type: 'auth'; readonly key: string; readonly signature: string }
  | { readonly type: 'ping' };

/** A refused server frame and why. */
export interface FrameError {
  readonly error: string;
}

/** Rooms hold at most 64 peers by default; a list far longer than any limit is refused. */
const MAX_PEERS_LISTED = 10_000;
const MAX_TEXT = 500;
/** A challenge to sign: base64url, 16 to 64 bytes. */
const CHALLENGE = /^[A-Za-z0-9_-]{22,86}$/;

/** Parses and checks one server frame; never throws. */
export function decodeServerFrame(text: unknown, maxBytes: number): ServerFrame | FrameError {
  if (typeof text !== 'string') return { error: 'binary frame' };
  if (text.length > maxBytes) return { error: `frame of ${text.length} characters exceeds ${maxBytes}` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (!isRecord(raw)) return { error: 'not an object' };
  switch (raw.type) {
    case 'welcome': {
      if (typeof raw.protocol !== 'number') return { error: 'welcome without protocol' };
      const { challenge } = raw;
      if (challenge !== undefined && !(typeof challenge === 'string' && CHALLENGE.test(challenge))) return { error: 'welcome with a malformed challenge' };
      return { type: 'welcome', protocol: raw.protocol, challenge };
    }
    case 'authenticated':
      return isStringUpTo(raw.device, 100) ? { type: 'authenticated', device: raw.device } : { error: 'authenticated without a device' };
    case 'joined': {
      const { room, peer, peers } = raw;
      if (!isRoom(room) || !isNodeId(peer)) return { error: 'joined without a valid room and peer' };
      if (!Array.isArray(peers) || peers.length > MAX_PEERS_LISTED || !peers.every(isNodeId)) {
        return { error: 'joined with an invalid peer list' };
      }
      return { type: 'joined', room, peer, peers };
    }
    case 'peer-joined': {
      const { room, peer } = raw;
      return isRoom(room) && isNodeId(peer) ? { type: 'peer-joined', room, peer } : { error: 'peer-joined without a valid room and peer' };
    }
    case 'peer-left': {
      const { room, peer, reason } = raw;
      if (!isRoom(room) || !isNodeId(peer)) return { error: 'peer-left without a valid room and peer' };
      return { type: 'peer-left', room, peer, reason: isStringUpTo(reason, MAX_TEXT) ? reason : 'left' };
    }
    case 'signal': {
      const { room, from } = raw;
      if (!isRoom(room) || !isNodeId(from) || !('data' in raw)) return { error: 'signal without a valid room, sender and data' };
      return { type: 'signal', room, from, data: raw.data };
    }
    case 'pong':
      return { type: 'pong' };
    case 'error': {
      const { code, message, ref } = raw;
      if (!isStringUpTo(code, 100)) return { error: 'error frame without a code' };
      return {
        type: 'error',
        code,
        message: isStringUpTo(message, MAX_TEXT) ? message : '',
        ref: isStringUpTo(ref, 100) ? ref : undefined,
      };
    }
    default:
      return { error: `unknown frame type ${JSON.stringify(raw.type)?.slice(0, 40)}` };
  }
}

/** True when `decodeServerFrame` refused the frame. */
export const isFrameError = (value: ServerFrame | FrameError): value is FrameError => 'error' in value;
