import { nanoid } from 'nanoid';
import { generateRoomSecret } from '../security/room-keys.js';
import type { RoomRef } from './room-session.js';

/** A new room: a `nanoid` id (126 random bits) and a fresh 256-bit secret. */
export function createRoom(): RoomRef {
  return { roomId: nanoid(), secret: generateRoomSecret() };
}
