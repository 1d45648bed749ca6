/** URL-safe base64 without padding (RFC 4648 §5): what room secrets, topics and ids are made of. */
export const BASE64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Encodes bytes as base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url without padding; `undefined` for anything else (untrusted input). */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  // A length of 1 mod 4 cannot come out of any byte string.
  if (!BASE64URL_PATTERN.test(text) || text.length % 4 === 1) return undefined;
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    return undefined;
  }
  // Non-canonical encodings (stray low bits in the last character) would give one value two names.
  const spare = text.length % 4 === 2 ? 0x0f : text.length % 4 === 3 ? 0x03 : 0;
  if (spare && ALPHABET.indexOf(text[text.length - 1]!) & spare) return undefined;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
