/**
 * Large sync frames travel compressed between peers that agreed on protocol 3: a whole-model
 * delta shrinks about sixfold (packed JSON repeats itself), which is most of a first sync's time
 * on a real network. Small frames (live edits) are sent as they are: compressing them would add
 * an asynchronous step to every edit and save next to nothing.
 */

/** First byte of a compressed frame. UTF-8 JSON never starts with it, nor does an authentication frame (0xFF). */
export const COMPRESSED_FRAME_MARKER = 0xfe;

/** Frames at least this long are compressed (where the protocol allows). */
export const COMPRESS_MIN_BYTES = 64 * 1024;

/** True for a compressed frame. */
export const isCompressedFrame = (bytes: Uint8Array): boolean => bytes[0] === COMPRESSED_FRAME_MARKER;

/** `bytes` deflated (raw DEFLATE, CompressionStream), after the marker byte. */
export async function compressFrame(bytes: Uint8Array): Promise<Uint8Array> {
  const deflated = new Uint8Array(await new Response(streamThrough(new CompressionStream('deflate-raw'), bytes)).arrayBuffer());
  const frame = new Uint8Array(deflated.length + 1);
  frame[0] = COMPRESSED_FRAME_MARKER;
  frame.set(deflated, 1);
  return frame;
}

/**
 * The frame inside a compressed one, or why not: a peer may send anything, so a stream that does
 * not inflate, or inflates past `maxBytes` (a small frame that would expand to gigabytes), is
 * refused as soon as it shows, without holding more than `maxBytes`. Never throws.
 */
export async function decompressFrame(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array | { error: string }> {
  const reader = streamThrough(new DecompressionStream('deflate-raw'), bytes.subarray(1)).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        void reader.cancel().catch(() => undefined);
        return { error: `compressed frame inflates past ${maxBytes} bytes` };
      }
      chunks.push(value);
    }
  } catch {
    return { error: 'compressed frame does not inflate' };
  }
  const frame = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    frame.set(chunk, at);
    at += chunk.byteLength;
  }
  return frame;
}

/**
 * What `transform` makes of `bytes`, to be read. The bytes are written to it directly: a `Blob`'s
 * stream (the obvious way) hands them to the browser's blob store and reads them back, round trips
 * that made inflating each part of a large delta wait for other tasks (docs/benchmark-findings.md).
 */
function streamThrough(transform: CompressionStream | DecompressionStream, bytes: Uint8Array): ReadableStream<Uint8Array> {
  const writer = transform.writable.getWriter();
  // A failure shows on the readable side (a frame that does not inflate); these would only repeat it.
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => undefined);
  writer.close().catch(() => undefined);
  return transform.readable;
}
