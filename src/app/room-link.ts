import { ID_PATTERN } from '../util/ids.js';
import { isRoomSecret } from '../security/room-keys.js';
import type { RoomRef } from './room-session.js';

/** Room ids as links carry them: ids like every other (`nanoid` makes them). */
export const ROOM_ID_PATTERN = ID_PATTERN;

/** A parsed link: the room, or why the text is not a room link. */
export type RoomLinkResult = { readonly ok: true; readonly room: RoomRef } | { readonly ok: false; readonly error: string };

const FRAGMENT = /^#\/room\/([^?#/]*)\?k=([^&#]*)$/;

/**
 * The shareable link of a room: `<base>#/room/<roomId>?k=<secret>`. The id and the secret live only
 * in the fragment, which browsers never send to a server. `base` is the app's address (its query
 * and fragment are dropped).
 */
export function roomLink(base: string | URL, room: RoomRef): string {
  if (!ROOM_ID_PATTERN.test(room.roomId)) throw new TypeError(`roomLink: ${JSON.stringify(room.roomId)} is not a valid room id`);
  if (!isRoomSecret(room.secret)) throw new TypeError('roomLink: the room secret is not base64url of 16–64 bytes');
  const url = new URL(base);
  url.search = '';
  url.hash = `/room/${room.roomId}?k=${room.secret}`;
  return url.href;
}

/**
 * Reads a room from a location fragment (`#/room/<roomId>?k=<secret>`), strictly: any other shape,
 * an extra parameter, or a malformed id or secret is an error in words, never a partial room.
 */
export function parseRoomLink(hash: string): RoomLinkResult {
  const match = FRAGMENT.exec(hash);
  if (!match) return fail('This is not a room link: it should end in #/room/<room id>?k=<key>.');
  const [, roomId, secret] = match as unknown as [string, string, string];
  if (!ROOM_ID_PATTERN.test(roomId)) return fail('The room id in this link is not valid (1–64 letters, digits, "-" or "_").');
  if (!secret) return fail('This room link has no key (the part after "?k=").');
  if (!isRoomSecret(secret)) return fail('The room key in this link is damaged: it must be 22–86 letters, digits, "-" or "_" (128–512 bits).');
  return { ok: true, room: { roomId, secret } };
}

/** Reads a room from a whole pasted link (any http or https address) or from a bare fragment. */
export function parsePastedRoomLink(text: string): RoomLinkResult {
  const trimmed = text.trim();
  if (!trimmed) return fail('Paste a room link first.');
  if (trimmed.startsWith('#')) return parseRoomLink(trimmed);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return fail('This is not a link. A room link looks like https://…/#/room/<room id>?k=<key>.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail('A room link starts with https:// (or http://).');
  if (!url.hash) return fail('This link has no room in it (nothing after "#").');
  return parseRoomLink(url.hash);
}

/** What a location fragment asks the app to show. */
export type Route =
  | { readonly page: 'landing' }
  | { readonly page: 'room'; readonly room: RoomRef }
  | { readonly page: 'invalid'; readonly error: string };

/** The page for a fragment: the landing page for none, a room for a room link, else an error. */
export function routeFromHash(hash: string): Route {
  if (hash === '' || hash === '#' || hash === '#/') return { page: 'landing' };
  const parsed = parseRoomLink(hash);
  return parsed.ok ? { page: 'room', room: parsed.room } : { page: 'invalid', error: parsed.error };
}

function fail(error: string): RoomLinkResult {
  return { ok: false, error };
}
