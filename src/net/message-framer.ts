/*
 * Chunk framing for data channels, which carry messages of limited size (16 KiB is safe in every
 * browser). Every frame starts with a kind byte:
 *
 *   chunk  [1][u32 message id][u32 index][u32 count][u32 total bytes][payload]   (big-endian)
 *   close  [2][reason, UTF-8]
 *   ping   [3]          asks the peer to show it is still there
 *   pong   [4]          the answer, sent at once on receipt
 *
 * Chunks of one message travel in order; a message of `count` chunks is complete after chunk
 * `count - 1`. The total is announced up front so the receiver can refuse an oversized message at
 * its first chunk instead of after buffering it.
 */
import { encodeUtf8 } from '../util/utf8.js';

/** Frame kind byte of a message chunk. */
export const CHUNK_FRAME = 1;
/** Frame kind byte of a close notice carrying the reason. */
export const CLOSE_FRAME = 2;
/** Frame kind byte of a liveness probe. */
export const PING_FRAME = 3;
/** Frame kind byte of the answer to a probe. */
export const PONG_FRAME = 4;
/** Bytes before the payload of a chunk frame. */
export const CHUNK_HEADER_BYTES = 17;
/** Default payload bytes per chunk: the largest size every browser's data channel accepts. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024;
/** Default largest message, on both the sending and the receiving side. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Reasons in close frames are cut to this many characters. */
export const MAX_CLOSE_REASON_CHARS = 200;

/** Splits messages into chunk frames, each made only when needed so memory stays flat. */
export class MessageFramer {
  private nextId = 0;

  constructor(readonly chunkBytes: number = DEFAULT_CHUNK_BYTES) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
      throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    }
  }

  /** The frames of one message, in order. An empty message is one chunk with no payload. */
  *frames(message: Uint8Array): Generator<Uint8Array<ArrayBuffer>> {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const total = message.byteLength;
    const count = Math.max(1, Math.ceil(total / this.chunkBytes));
    for (let index = 0; index < count; index++) {
      const payload = message.subarray(index * this.chunkBytes, Math.min(total, (index + 1) * this.chunkBytes));
      const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
      const view = new DataView(frame.buffer);
      view.setUint8(0, CHUNK_FRAME);
      view.setUint32(1, id);
      view.setUint32(5, index);
      view.setUint32(9, count);
      view.setUint32(13, total);
      frame.set(payload, CHUNK_HEADER_BYTES);
      yield frame;
    }
  }
}

/** A close notice telling the other side why the connection ends. */
export function encodeCloseFrame(reason: string): Uint8Array<ArrayBuffer> {
  const text = encodeUtf8(reason.slice(0, MAX_CLOSE_REASON_CHARS));
  const frame = new Uint8Array(1 + text.byteLength);
  frame[0] = CLOSE_FRAME;
  frame.set(text, 1);
  return frame;
}
