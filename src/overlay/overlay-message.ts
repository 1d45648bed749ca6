import type { NodeId } from '../crdt/dot.js';
import { isNodeId, isRecord, isToken } from '../net/wire-guards.js';
import { decodeUtf8, encodeUtf8 } from '../util/utf8.js';

/**
 * The first byte of every overlay frame on a peer connection. It never starts UTF-8 JSON (sync
 * messages), a compressed sync frame (0xFE) or an authentication frame (0xFF), so the overlay's
 * frames are told apart before the sync engine sees anything (`OverlayMux`).
 */
export const OVERLAY_FRAME_BYTE = 0xfd;
/** The overlay protocol version every message carries; a peer speaking another is refused. */
export const OVERLAY_VERSION = 1;
/** Largest overlay frame accepted (a sealed WebRTC offer is a few KiB; a roster of 1,000 members ~60 KiB). */
export const MAX_OVERLAY_FRAME_BYTES = 256 * 1024;
/** Longest random walk or route accepted: a bound on forwarding work a hostile member can cause. */
export const MAX_OVERLAY_TTL = 10;
/** Node ids in one shuffle; in one trail or path. */
export const MAX_SHUFFLE_NODES = 32;
export const MAX_TRAIL = 16;
/** Members in one roster message. */
export const MAX_ROSTER_ENTRIES = 1_000;
/** Characters of a member's state digest. */
export const MAX_DIGEST_CHARS = 64;

/** HyParView's neighbor request priority: high may not be refused (the sender has no neighbor). */
export type Priority = 'high' | 'low';

/** One member as the roster gossips it: id, heartbeat counter, state digest, and whether it left. */
export interface RosterEntry {
  readonly id: NodeId;
  readonly beat: number;
  readonly digest: string;
  readonly left: boolean;
}

/** Messages between two connected neighbors (HyParView, Leitão et al. 2007, plus the roster). */
export type OverlayMessage =
  | { readonly t: 'join' }
  | { readonly t: 'forward-join'; readonly peer: NodeId; readonly ttl: number; readonly trail: readonly NodeId[] }
  /** A request to become neighbors (`reply` false), or its acceptance (true); a refusal is a DISCONNECT. */
  | { readonly t: 'neighbor'; readonly priority: Priority; readonly reply: boolean }
  | { readonly t: 'disconnect'; readonly alive: boolean }
  | { readonly t: 'shuffle'; readonly origin: NodeId; readonly nodes: readonly NodeId[]; readonly ttl: number; readonly trail: readonly NodeId[] }
  | { readonly t: 'roster'; readonly entries: readonly RosterEntry[] }
  | RouteMessage;

/** What a routed message carries to a node that may be several hops away. */
export type RoutedBody =
  | { readonly t: 'shuffle-reply'; readonly nodes: readonly NodeId[] }
  /** A connection-setup signal, sealed by the caller (`EncryptedSignalingChannel`). */
  | { readonly t: 'signal'; readonly data: unknown };

/**
 * A message for `to`, forwarded hop by hop: along `path` (the planned next hops) while it holds,
 * else straight to `to` when connected, else to every neighbor while `ttl` lasts (a bounded
 * flood). `trail` lists the hops so far, so every node on the way learns a route back to `from`.
 */
export interface RouteMessage {
  readonly t: 'route';
  readonly id: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly ttl: number;
  readonly path: readonly NodeId[];
  readonly trail: readonly NodeId[];
  readonly body: RoutedBody;
}

/** A refused frame: nothing was done with it. */
export interface OverlayDecodeError {
  readonly error: string;
}


/** The frame for `message`: the overlay byte, then the message as UTF-8 JSON with its version. */
export function encodeOverlayMessage(message: OverlayMessage): Uint8Array {
  const wire = message.t === 'roster' ? { ...message, entries: rosterTuples(message.entries) } : message;
  const json = encodeUtf8(JSON.stringify({ v: OVERLAY_VERSION, ...wire }));
  const frame = new Uint8Array(json.length + 1);
  frame[0] = OVERLAY_FRAME_BYTE;
  frame.set(json, 1);
  return frame;
}

/** True for frames of the overlay (whatever their content). */
export const isOverlayFrame = (frame: Uint8Array): boolean => frame.length > 0 && frame[0] === OVERLAY_FRAME_BYTE;

/** Parses and validates a whole overlay frame from an untrusted peer; never throws. */
export function decodeOverlayMessage(frame: Uint8Array): OverlayMessage | OverlayDecodeError {
  if (!isOverlayFrame(frame)) return { error: 'not an overlay frame' };
  if (frame.length > MAX_OVERLAY_FRAME_BYTES + 1) return { error: `frame of ${frame.length} bytes is over ${MAX_OVERLAY_FRAME_BYTES}` };
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8(frame.subarray(1)));
  } catch {
    return { error: 'not UTF-8 JSON' };
  }
  if (!isRecord(value)) return { error: 'not a JSON object' };
  if (value.v !== OVERLAY_VERSION) return { error: `overlay version ${JSON.stringify(value.v)} is not ${OVERLAY_VERSION}` };
  return decodeBody(value);
}

/** True for a decode error. */
export const isOverlayDecodeError = (value: OverlayMessage | OverlayDecodeError): value is OverlayDecodeError => 'error' in value;

function decodeBody(value: Record<string, unknown>): OverlayMessage | OverlayDecodeError {
  switch (value.t) {
    case 'join':
      return { t: 'join' };
    case 'forward-join': {
      if (!isNodeId(value.peer)) return { error: 'forward-join: bad peer' };
      const trail = nodeList(value.trail, MAX_TRAIL);
      if (!isTtl(value.ttl) || !trail) return { error: 'forward-join: bad ttl or trail' };
      return { t: 'forward-join', peer: value.peer, ttl: value.ttl, trail };
    }
    case 'neighbor':
      if ((value.priority !== 'high' && value.priority !== 'low') || typeof value.reply !== 'boolean') return { error: 'neighbor: bad priority or reply' };
      return { t: 'neighbor', priority: value.priority, reply: value.reply };
    case 'disconnect':
      if (typeof value.alive !== 'boolean') return { error: 'disconnect: bad alive' };
      return { t: 'disconnect', alive: value.alive };
    case 'shuffle': {
      const nodes = nodeList(value.nodes, MAX_SHUFFLE_NODES);
      const trail = nodeList(value.trail, MAX_TRAIL);
      if (!isNodeId(value.origin) || !nodes || !trail || !isTtl(value.ttl)) return { error: 'shuffle: bad origin, nodes, trail or ttl' };
      return { t: 'shuffle', origin: value.origin, nodes, ttl: value.ttl, trail };
    }
    case 'roster': {
      if (!Array.isArray(value.entries) || value.entries.length > MAX_ROSTER_ENTRIES) return { error: 'roster: bad entries' };
      const entries: RosterEntry[] = [];
      for (const raw of value.entries) {
        const entry = rosterEntry(raw);
        if (!entry) return { error: 'roster: bad entry' };
        entries.push(entry);
      }
      return { t: 'roster', entries };
    }
    case 'route': {
      const path = nodeList(value.path, MAX_TRAIL);
      const trail = nodeList(value.trail, MAX_TRAIL);
      if (!isToken(value.id) || !isNodeId(value.from) || !isNodeId(value.to) || !isTtl(value.ttl) || !path || !trail) {
        return { error: 'route: bad id, from, to, ttl, path or trail' };
      }
      const body = routedBody(value.body);
      if (!body) return { error: 'route: bad body' };
      return { t: 'route', id: value.id, from: value.from, to: value.to, ttl: value.ttl, path, trail, body };
    }
    default:
      return { error: `unknown overlay message type ${JSON.stringify(value.t)?.slice(0, 40)}` };
  }
}

function routedBody(value: unknown): RoutedBody | undefined {
  if (!isRecord(value)) return undefined;
  if (value.t === 'shuffle-reply') {
    const nodes = nodeList(value.nodes, MAX_SHUFFLE_NODES);
    return nodes && { t: 'shuffle-reply', nodes };
  }
  // The signal is opaque here (sealed); its size is bounded by the frame's.
  if (value.t === 'signal' && 'data' in value) return { t: 'signal', data: value.data };
  return undefined;
}

function rosterEntry(value: unknown): RosterEntry | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [id, beat, digest, left] = value as unknown[];
  if (!isNodeId(id) || !Number.isSafeInteger(beat) || (beat as number) < 0) return undefined;
  if (typeof digest !== 'string' || digest.length > MAX_DIGEST_CHARS || (left !== 0 && left !== 1)) return undefined;
  return { id, beat: beat as number, digest, left: left === 1 };
}

/** Roster entries travel as compact tuples `[id, beat, digest, left]`. */
function rosterTuples(entries: readonly RosterEntry[]): unknown[] {
  return entries.map((entry) => [entry.id, entry.beat, entry.digest, entry.left ? 1 : 0]);
}

const isTtl = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_OVERLAY_TTL;

function nodeList(value: unknown, max: number): NodeId[] | undefined {
  if (!Array.isArray(value) || value.length > max) return undefined;
  return value.every(isNodeId) ? (value as NodeId[]) : undefined;
}
