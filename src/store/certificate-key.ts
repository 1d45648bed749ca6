import { toBase64Url } from '../util/base64url.js';
import { sha256 } from '../util/sha256.js';

/**
 * The key a stored certificate is kept under: 128 bits of SHA-256 of its bytes, base64url. Keyed by
 * content, storing one certificate again (two tabs received it, or a save repeated after a deleted
 * database) keeps one copy, while two different certificates of one author never replace each
 * other (keying by author and first seq would let a later one hide an earlier one's items).
 */
export function certificateKey(bytes: Uint8Array): string {
  return toBase64Url(sha256(bytes).subarray(0, 16));
}
