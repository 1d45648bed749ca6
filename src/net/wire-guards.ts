import { customAlphabet } from 'nanoid';
import { isNodeId, type NodeId } from '../crdt/dot.js';

// Node ids as the CRDT layer defines them, rooms as the signaling protocol does: re-exported
// beside the net layer's other guards.
export { isNodeId };
export { ROOM_PATTERN, isRoom } from '../protocol/signaling-protocol.js';

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** True for a short opaque identifier (connection and session ids). */
export const isToken = (value: unknown): value is string => typeof value === 'string' && TOKEN_PATTERN.test(value);

/** True for a plain object (not null, not an array). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** True for a string of at most `max` characters. */
export const isStringUpTo = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random id of `length` characters from `[A-Za-z0-9]`, for connection and session ids.
 * nanoid's generator masks and rejects bytes, so every character is equally likely (a plain
 * `byte % 62` favours the first eight).
 */
export function randomToken(length = 16): string {
  return customAlphabet(ALPHANUMERIC, length)();
}

/** Throws (a programmer error) unless `value` is a well-formed node id. */
export function assertNodeId(value: unknown, where: string): asserts value is NodeId {
  if (!isNodeId(value)) throw new TypeError(`${where}: ${JSON.stringify(value)} is not a valid node id`);
}

/** Throws (a programmer error) unless `value` is a positive finite number. */
export function assertPositive(value: number, where: string): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${where} must be a positive number, got ${value}`);
}
