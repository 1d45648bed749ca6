// The one UTF-8 encoder and decoders of the project, so every layer turns text into bytes alike.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

/** The UTF-8 bytes of `text`. */
export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * The text of UTF-8 `bytes` (a leading byte order mark is dropped). Throws a `TypeError` on bytes
 * that are not UTF-8: parsers of untrusted input catch it as they catch `JSON.parse`'s errors, so
 * malformed text is refused instead of read with replacement characters.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

/** The text of `bytes`, with U+FFFD for what is not UTF-8: for text that is only shown (a close reason). */
export function decodeUtf8Lenient(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

/**
 * The text of `bytes` when every byte is ASCII, else undefined: ids travel as ASCII, and reading
 * them byte by byte keeps one encoding per id (a UTF-8 decoder would drop a leading BOM).
 */
export function decodeAscii(bytes: Uint8Array): string | undefined {
  let text = '';
  for (const byte of bytes) {
    if (byte >= 0x80) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}
