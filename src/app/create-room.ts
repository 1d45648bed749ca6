import { nanoid } from 'nanoid';
import type { RoomRef } from './room-session.js';

/** 256 random bits as base64url without padding (43 characters): the secret of a new room. */
export function generateRoomSecret(random: (bytes: Uint8Array) => Uint8Array = (bytes) => crypto.getRandomValues(bytes)): string {
  const bytes = random(new Uint8Array(32));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A new room: a `nanoid` id (126 random bits) and a fresh secret. */
export function createRoom(): RoomRef {
  return { roomId: nanoid(), secret: generateRoomSecret() };
}
