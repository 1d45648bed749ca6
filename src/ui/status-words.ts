import type { NodeStatus, PeerInfo } from '../node/node-events.js';
import { deviceOf } from '../domain/index.js';
import { shortId } from './shared/format.js';

/** How good the news is: drawn as the dot's colour, said in the words. */
export type Tone = 'ok' | 'warn' | 'bad';

/** One line of the status in plain words. */
export interface StatusLine {
  readonly text: string;
  readonly tone: Tone;
  /** The same news in at most about 30 characters, for a phone's line beside "Details" (where `text` would be cut off). */
  readonly short?: string;
}

/** What the status bar says, in two lines: who this device reaches, and where the user's edits are. */
export interface StatusWords {
  readonly reach: StatusLine;
  readonly saved: StatusLine;
}

/** What the words are made from besides the node's status. */
export interface StatusContext {
  /** The user chose to work offline (on every tab of this room on this device). */
  readonly workOffline: boolean;
  /** The user's own edits (entities they changed) no peer confirmed holding; default the node's count. */
  readonly unsentEdits?: number;
  /** Names by device id (the room's members), for peers that gave none on connecting. */
  readonly names?: ReadonlyMap<string, string>;
}

/** A peer for people: the name its device shares with the room, else the one it gave, else its short id. */
export function peerName(peer: Pick<PeerInfo, 'peerId' | 'displayName'>, names: ReadonlyMap<string, string> = new Map()): string {
  const device = deviceOf(peer.peerId);
  return (device !== undefined ? names.get(device) : undefined) || peer.displayName || `device ${shortId(peer.peerId)}`;
}

/** "Ana", "Ana and Ben", "Ana, Ben and 3 others". */
export function nameList(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  const rest = names.length - 2;
  return `${names[0]}, ${names[1]} and ${rest === 1 ? '1 other' : `${rest} others`}`;
}

/**
 * The status in words a person understands: never "online" while nobody can be reached, the
 * user's own edits counted (not the operations under them), and the server named only for what
 * it does (finding others).
 */
export function statusWords(status: NodeStatus, context: StatusContext): StatusWords {
  return { reach: reachLine(status, context), saved: savedLine(status, context) };
}

function reachLine(status: NodeStatus, context: StatusContext): StatusLine {
  if (context.workOffline) return { text: 'Working offline on this device (every tab of this room)', tone: 'warn', short: 'Working offline on this device' };
  if (!status.online) return { text: 'This device is offline', tone: 'bad' };
  const own = deviceOf(status.nodeId);
  const peers = uniqueDevices(status.peers);
  const others = peers.filter((peer) => own === undefined || deviceOf(peer.peerId) !== own);
  const tabs = peers.length - others.length;
  const named = others.map((peer) => peerName(peer, context.names));
  if (tabs) named.push(others.length ? 'another tab here' : 'another tab on this device');
  if (named.length) {
    const room = roomWords(status);
    const tone = room?.tone ?? (others.length ? 'ok' : 'warn');
    const short = room?.short ? { short: room.short } : {};
    return { text: `Connected to ${nameList(named)}${room ? ` · ${room.text}` : ''}`, tone, ...short };
  }
  switch (status.signaling) {
    case 'connected':
      return { text: 'Nobody else is here right now', tone: 'warn' };
    case 'connecting':
      return { text: 'Looking for others in this room…', tone: 'warn', short: 'Looking for others…' };
    default:
      return { text: 'Can’t reach the server to find others', tone: 'bad', short: 'Can’t reach the server' };
  }
}

function savedLine(status: NodeStatus, context: StatusContext): StatusLine {
  if (status.storageError) return { text: 'Your changes could not be saved on this device', tone: 'bad', short: 'Your changes could not be saved' };
  if (status.receiving) {
    const from = status.peers.find((peer) => peer.peerId === status.receiving!.peerId);
    const name = from ? peerName(from, context.names) : `device ${shortId(status.receiving.peerId)}`;
    const { part, parts, items } = status.receiving;
    // Parts are of similar size, so the total is estimated from what came so far.
    if (items !== undefined && items > 0) {
      const total = Math.max(items, Math.round((items / part) * parts));
      return {
        text: `Receiving the room from ${name}: ${items.toLocaleString('en')} of about ${total.toLocaleString('en')} items`,
        tone: 'warn',
        short: `Receiving ${shortCount(items, total)} of ~${shortCount(total, total)} items`,
      };
    }
    return {
      text: `Receiving the room from ${name}: part ${part.toLocaleString('en')} of ${parts.toLocaleString('en')}`,
      tone: 'warn',
      short: `Receiving part ${part.toLocaleString('en')} of ${parts.toLocaleString('en')}`,
    };
  }
  // Nothing unconfirmed means nothing waiting, whatever an older count of edits said.
  const waiting = status.unsentChanges === 0 ? 0 : (context.unsentEdits ?? status.unsentChanges);
  if (waiting > 0)
    return {
      text: `${waiting.toLocaleString('en')} of your edits ${waiting === 1 ? 'is' : 'are'} waiting to be sent`,
      tone: 'warn',
      short: `${waiting.toLocaleString('en')} ${waiting === 1 ? 'edit' : 'edits'} waiting to be sent`,
    };
  if (status.unsavedChanges > 0) return { text: 'Saving your changes…', tone: 'warn' };
  const peers = status.peers;
  if (!peers.length || context.workOffline || !status.online) return { text: 'Your changes are saved here', tone: 'ok' };
  const room = status.room;
  const behind = room !== undefined && room.devices > 1 && room.inSync < room.devices - 1;
  if (behind || peers.some((peer) => !peer.inSync)) return { text: 'Everything saved · catching up with the others', tone: 'warn', short: 'Saved · catching up' };
  return { text: 'Everything saved and sent', tone: 'ok' };
}

// The room beyond direct connections (a partial mesh): said only where it holds more devices than
// this one is connected to. "in sync with all 99 devices", "reaching 67 of 100 devices".
function roomWords(status: NodeStatus): StatusLine | undefined {
  const room = status.room;
  if (!room || room.devices - 1 <= room.connected) return undefined;
  const others = room.devices - 1;
  const connected = `(${room.connected} connected)`;
  if (room.reached < room.devices)
    return { text: `reaching ${room.reached} of ${room.devices.toLocaleString('en')} devices ${connected}`, tone: 'warn', short: `Reaching ${room.reached} of ${room.devices.toLocaleString('en')} devices` };
  if (room.inSync === others) return { text: `in sync with all ${others.toLocaleString('en')} devices ${connected}`, tone: 'ok', short: `In sync with all ${others.toLocaleString('en')} devices` };
  return { text: `in sync with ${room.inSync} of ${others.toLocaleString('en')} devices ${connected}`, tone: 'warn', short: `In sync with ${room.inSync} of ${others.toLocaleString('en')}` };
}

// Every tab of a device is a peer of its own; people count devices.
function uniqueDevices(peers: readonly PeerInfo[]): PeerInfo[] {
  const seen = new Set<string>();
  return peers.filter((peer) => {
    const device = deviceOf(peer.peerId) ?? peer.peerId;
    if (seen.has(device)) return false;
    seen.add(device);
    return true;
  });
}

// "3,000", and from 100,000 on "250K": a phone's line holds about 30 characters.
function shortCount(count: number, total: number): string {
  return total >= 100_000 ? count.toLocaleString('en', { notation: 'compact', maximumFractionDigits: 1 }) : count.toLocaleString('en');
}
