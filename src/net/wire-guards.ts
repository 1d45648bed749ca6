import { customAlphabet } from 'nanoid';
import type { NodeId } from '../crdt/dot.js';

/** Node ids as the signaling protocol allows them: 1–64 of `[A-Za-z0-9_-]`. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Rooms as the signaling protocol allows them: 1–128 of `[A-Za-z0-9_.:-]`. */
export const ROOM_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** True for a well-formed node id. */
export const isNodeId = (value: unknown): value is NodeId =>
  typeof value === 'string' && NODE_ID_PATTERN.test(value);

/** True for a well-formed room name. */
export const isRoom = (value: unknown): value is string => typeof value === 'string' && ROOM_PATTERN.test(value);

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
