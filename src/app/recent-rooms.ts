import { isRoomSecret } from '../security/room-keys.js';
import { ROOM_ID_PATTERN } from './room-link.js';
import type { RoomRef } from './room-session.js';

/** A room this device opened before, as the landing page lists it. */
export interface RecentRoom extends RoomRef {
  /** A local label; never sent to peers or servers. */
  readonly name: string;
  /** When it was last opened, ms since the epoch. */
  readonly lastOpened: number;
  /** The user chose to work offline in this room. */
  readonly workOffline: boolean;
}

/** The part of `Storage` used here; `localStorage` fits. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The localStorage key of the list. */
export const RECENT_ROOMS_KEY = 'ednet.recentRooms';
/** Longest room name kept. */
export const MAX_ROOM_NAME = 80;
/** Most rooms remembered; the least recently opened are forgotten first. */
export const MAX_RECENT_ROOMS = 20;

/**
 * The rooms this device opened, newest first, kept in localStorage. Stored text is untrusted (any
 * script of the origin, an older version, or the user may have changed it): entries that do not
 * parse are dropped on read. Storage that refuses writes (quota, private mode) loses the list,
 * never the room.
 */
export class RecentRooms {
  readonly #storage: KeyValueStorage | null;

  constructor(storage: KeyValueStorage | null = defaultStorage()) {
    this.#storage = storage;
  }

  /** Every remembered room, most recently opened first. */
  list(): RecentRoom[] {
    let raw: unknown;
    try {
      raw = JSON.parse(this.#storage?.getItem(RECENT_ROOMS_KEY) ?? '[]');
    } catch {
      return [];
    }
    if (!Array.isArray(raw)) return [];
    const rooms = raw.map(parseRecentRoom).filter((room): room is RecentRoom => room !== null);
    const seen = new Set<string>();
    return rooms
      .sort((a, b) => b.lastOpened - a.lastOpened)
      .filter((room) => !seen.has(room.roomId) && seen.add(room.roomId))
      .slice(0, MAX_RECENT_ROOMS);
  }

  /** The remembered room with this id, if any. */
  get(roomId: string): RecentRoom | undefined {
    return this.list().find((room) => room.roomId === roomId);
  }

  /**
   * Records that `room` was opened now. A known room keeps its name and work-offline choice unless
   * given; an unknown one gets `name` or a default name. Returns the stored entry.
   */
  opened(room: RoomRef, name?: string, now: number = Date.now()): RecentRoom {
    const known = this.get(room.roomId);
    const entry: RecentRoom = {
      roomId: room.roomId,
      secret: room.secret,
      name: cleanName(name) || known?.name || defaultRoomName(room.roomId),
      lastOpened: now,
      workOffline: known?.workOffline ?? false,
    };
    this.#write([entry, ...this.list().filter((other) => other.roomId !== room.roomId)]);
    return entry;
  }

  /** Renames a remembered room (an empty name restores the default). */
  rename(roomId: string, name: string): void {
    this.#update(roomId, (room) => ({ ...room, name: cleanName(name) || defaultRoomName(roomId) }));
  }

  /** Remembers the work-offline choice for a room. */
  setWorkOffline(roomId: string, workOffline: boolean): void {
    this.#update(roomId, (room) => ({ ...room, workOffline }));
  }

  /** Forgets a room (its data stays in this browser's storage). */
  forget(roomId: string): void {
    this.#write(this.list().filter((room) => room.roomId !== roomId));
  }

  /** Puts a forgotten room back where its last opening places it (undoing `forget`). */
  restore(entry: RecentRoom): void {
    const rooms = [entry, ...this.list().filter((room) => room.roomId !== entry.roomId)];
    this.#write(rooms.sort((a, b) => b.lastOpened - a.lastOpened));
  }

  #update(roomId: string, change: (room: RecentRoom) => RecentRoom): void {
    this.#write(this.list().map((room) => (room.roomId === roomId ? change(room) : room)));
  }

  #write(rooms: readonly RecentRoom[]): void {
    try {
      this.#storage?.setItem(RECENT_ROOMS_KEY, JSON.stringify(rooms.slice(0, MAX_RECENT_ROOMS)));
    } catch {
      // Quota or private mode: the list is a convenience, the room itself lives in IndexedDB.
    }
  }
}

/** The name a room gets when nobody named it. */
export function defaultRoomName(roomId: string): string {
  return `Room ${roomId.slice(0, 6)}`;
}

function cleanName(name: string | undefined): string {
  return (name ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_ROOM_NAME);
}

function parseRecentRoom(value: unknown): RecentRoom | null {
  if (typeof value !== 'object' || value === null) return null;
  const { roomId, secret, name, lastOpened, workOffline } = value as Record<string, unknown>;
  if (typeof roomId !== 'string' || !ROOM_ID_PATTERN.test(roomId)) return null;
  if (!isRoomSecret(secret)) return null;
  if (typeof lastOpened !== 'number' || !Number.isFinite(lastOpened)) return null;
  return {
    roomId,
    secret,
    name: (typeof name === 'string' && cleanName(name)) || defaultRoomName(roomId),
    lastOpened,
    workOffline: workOffline === true,
  };
}

function defaultStorage(): KeyValueStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // Reading `localStorage` throws where storage is blocked for the site.
    return null;
  }
}
