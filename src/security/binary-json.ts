/*
 * JSON that carries byte arrays, for sealing what used to travel by structured clone:
 *
 *   [u32 JSON length, big-endian][JSON, UTF-8][bytes of every Uint8Array, one after another]
 *
 * In the JSON, a Uint8Array is `{"$u8":[offset,length]}` into the trailing bytes, and any object
 * key starting with `$` gets one more `$`, so no application object can pass for a byte array.
 */
import { decodeUtf8, encodeUtf8 } from '../util/utf8.js';

/** Why bytes could not be decoded. */
export interface BinaryJsonError {
  readonly error: string;
}

const MAX_DEPTH = 64;
const BYTES_TAG = '$u8';

/**
 * Encodes JSON values and `Uint8Array`s (copied, so the caller may reuse them at once). Throws a
 * `TypeError` for anything else (functions, `Map`, `ArrayBuffer`, cycles), a programmer error.
 */
export function encodeBinaryJson(value: unknown): Uint8Array<ArrayBuffer> {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const walk = (item: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new TypeError(`nested deeper than ${MAX_DEPTH} levels (or cyclic)`);
    if (item === null || typeof item === 'string' || typeof item === 'boolean') return item;
    if (typeof item === 'number') return Number.isFinite(item) ? item : null;
    if (item === undefined) return null;
    if (item instanceof Uint8Array) {
      blobs.push(item);
      const tag = { [BYTES_TAG]: [offset, item.byteLength] };
      offset += item.byteLength;
      return tag;
    }
    if (Array.isArray(item)) return item.map((element) => walk(element, depth + 1));
    if (typeof item === 'object' && isPlainObject(item)) {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(item)) {
        if (child !== undefined) out[key.startsWith('$') ? `$${key}` : key] = walk(child, depth + 1);
      }
      return out;
    }
    throw new TypeError(`a ${describe(item)} cannot be encoded`);
  };
  const json = encodeUtf8(JSON.stringify(walk(value, 0)));
  const bytes = new Uint8Array(4 + json.byteLength + offset);
  new DataView(bytes.buffer).setUint32(0, json.byteLength);
  bytes.set(json, 4);
  let at = 4 + json.byteLength;
  for (const blob of blobs) {
    bytes.set(blob, at);
    at += blob.byteLength;
  }
  return bytes;
}

/** Decodes `encodeBinaryJson` output. Never throws; byte arrays are copies. */
export function decodeBinaryJson(bytes: Uint8Array): { readonly value: unknown } | BinaryJsonError {
  if (bytes.byteLength < 4) return { error: 'too short' };
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (jsonLength > bytes.byteLength - 4) return { error: 'JSON length beyond the end' };
  const blobs = bytes.subarray(4 + jsonLength);
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(bytes.subarray(4, 4 + jsonLength)));
  } catch {
    return { error: 'not UTF-8 JSON' };
  }
  const walk = (item: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH} levels`);
    if (typeof item !== 'object' || item === null) return item;
    if (Array.isArray(item)) return item.map((element) => walk(element, depth + 1));
    const entries = Object.entries(item);
    if (entries.length === 1 && entries[0]![0] === BYTES_TAG) return bytesAt(blobs, entries[0]![1]);
    const out: Record<string, unknown> = {};
    for (const [key, child] of entries) {
      if (key.startsWith('$') && !key.startsWith('$$')) throw new Malformed(`unescaped key ${key.slice(0, 20)}`);
      // defineProperty, so a `__proto__` key stays a plain property.
      Object.defineProperty(out, key.startsWith('$') ? key.slice(1) : key, {
        value: walk(child, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  try {
    return { value: walk(raw, 0) };
  } catch (error) {
    if (error instanceof Malformed) return { error: error.message };
    throw error;
  }
}

class Malformed extends Error {}

function bytesAt(blobs: Uint8Array, range: unknown): Uint8Array {
  if (!Array.isArray(range) || range.length !== 2) throw new Malformed('byte array without a range');
  const [start, length] = range as [unknown, unknown];
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length)) throw new Malformed('byte range is not integers');
  const from = start as number;
  const to = from + (length as number);
  if (from < 0 || to < from || to > blobs.byteLength) throw new Malformed('byte range outside the message');
  return blobs.slice(from, to);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
