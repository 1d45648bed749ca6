import {
  CHUNK_FRAME,
  CHUNK_HEADER_BYTES,
  CLOSE_FRAME,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  MAX_CLOSE_REASON_CHARS,
  PING_FRAME,
  PONG_FRAME,
} from './message-framer.js';
import { decodeUtf8Lenient } from '../util/utf8.js';

/** What one incoming frame amounted to. Nothing here throws: bad frames become `error`. */
export type FrameResult =
  | { readonly kind: 'message'; readonly message: Uint8Array }
  | { readonly kind: 'pending' }
  | { readonly kind: 'close'; readonly reason: string }
  | { readonly kind: 'ping' | 'pong' }
  | { readonly kind: 'error'; readonly reason: string };

/** Limits of a `MessageReassembler`. */
export interface ReassemblerOptions {
  /** Largest message accepted; larger ones are refused at their first chunk. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Messages that may be incomplete at the same time. Default 4 (an honest sender has 1). */
  readonly maxPartialMessages?: number;
  /** Largest chunk payload accepted. Default 256 KiB. */
  readonly maxChunkBytes?: number;
}

interface PartialMessage {
  readonly count: number;
  readonly total: number;
  next: number;
  received: number;
  readonly chunks: Uint8Array[];
}

const PENDING: FrameResult = { kind: 'pending' };
const PING: FrameResult = { kind: 'ping' };
const PONG: FrameResult = { kind: 'pong' };
/** How many refused message ids are remembered, so their remaining chunks are skipped quietly. */
const REMEMBERED_DISCARDS = 64;

/**
 * Joins chunk frames from a `MessageFramer` back into messages. A malformed, inconsistent or
 * oversized chunk stream is dropped whole and reported once; its later chunks are skipped.
 */
export class MessageReassembler {
  private readonly maxMessageBytes: number;
  private readonly maxPartialMessages: number;
  private readonly maxChunkBytes: number;
  private readonly partials = new Map<number, PartialMessage>();
  private readonly discarded = new Set<number>();

  constructor(options: ReassemblerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxPartialMessages = options.maxPartialMessages ?? 4;
    this.maxChunkBytes = options.maxChunkBytes ?? 16 * DEFAULT_CHUNK_BYTES;
  }

  /** Bytes held in incomplete messages. */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const partial of this.partials.values()) bytes += partial.received;
    return bytes;
  }

  push(frame: Uint8Array): FrameResult {
    if (frame.byteLength === 0) return error('empty frame');
    if (frame[0] === CLOSE_FRAME) return this.closeNotice(frame);
    if (frame[0] === PING_FRAME || frame[0] === PONG_FRAME) {
      return frame.byteLength === 1 ? (frame[0] === PING_FRAME ? PING : PONG) : error('liveness frame with a payload');
    }
    if (frame[0] !== CHUNK_FRAME) return error(`unknown frame kind ${frame[0]}`);
    if (frame.byteLength < CHUNK_HEADER_BYTES) return error('truncated chunk header');
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const id = view.getUint32(1);
    const index = view.getUint32(5);
    const count = view.getUint32(9);
    const total = view.getUint32(13);
    const payload = frame.subarray(CHUNK_HEADER_BYTES);

    if (this.discarded.has(id)) {
      if (index !== 0) return PENDING;
      // Ids wrap around after 2^32 messages: a first chunk starts a new message.
      this.discarded.delete(id);
    }
    if (payload.byteLength > this.maxChunkBytes) {
      return this.discard(id, `chunk of ${payload.byteLength} bytes exceeds the limit of ${this.maxChunkBytes}`);
    }
    if (index === 0) return this.start(id, count, total, payload);

    const partial = this.partials.get(id);
    if (!partial) return this.discard(id, `chunk ${index} of message ${id}, which never started`);
    if (index !== partial.next || count !== partial.count || total !== partial.total) {
      return this.discard(id, `chunk ${index}/${count} of message ${id} is out of order or inconsistent`);
    }
    return this.append(id, partial, payload);
  }

  private start(id: number, count: number, total: number, payload: Uint8Array): FrameResult {
    if (this.partials.has(id)) return this.discard(id, `message ${id} restarted before it was complete`);
    if (total > this.maxMessageBytes) {
      return this.discard(id, `message of ${total} bytes exceeds the limit of ${this.maxMessageBytes}`);
    }
    // Every chunk of a non-empty message carries at least one byte, which bounds `count`.
    if (count < 1 || count > Math.max(1, total)) {
      return this.discard(id, `message ${id} announces ${count} chunks for ${total} bytes`);
    }
    if (this.partials.size >= this.maxPartialMessages) {
      return this.discard(id, `more than ${this.maxPartialMessages} incomplete messages`);
    }
    const partial: PartialMessage = { count, total, next: 0, received: 0, chunks: [] };
    this.partials.set(id, partial);
    return this.append(id, partial, payload);
  }

  private append(id: number, partial: PartialMessage, payload: Uint8Array): FrameResult {
    if (partial.total > 0 && payload.byteLength === 0) return this.discard(id, `empty chunk in message ${id}`);
    if (partial.received + payload.byteLength > partial.total) {
      return this.discard(id, `message ${id} carries more than the ${partial.total} bytes it announced`);
    }
    partial.chunks.push(payload);
    partial.received += payload.byteLength;
    partial.next++;
    if (partial.next < partial.count) return PENDING;
    if (partial.received !== partial.total) {
      return this.discard(id, `message ${id} carries ${partial.received} of the ${partial.total} bytes it announced`);
    }
    this.partials.delete(id);
    // Always a fresh copy: the frames' buffers belong to the channel.
    const message = new Uint8Array(partial.total);
    let offset = 0;
    for (const chunk of partial.chunks) {
      message.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { kind: 'message', message };
  }

  private closeNotice(frame: Uint8Array): FrameResult {
    const text = decodeUtf8Lenient(frame.subarray(1, 1 + 4 * MAX_CLOSE_REASON_CHARS));
    return { kind: 'close', reason: text.slice(0, MAX_CLOSE_REASON_CHARS) };
  }

  private discard(id: number, reason: string): FrameResult {
    this.partials.delete(id);
    this.discarded.add(id);
    if (this.discarded.size > REMEMBERED_DISCARDS) {
      const oldest = this.discarded.values().next().value;
      if (oldest !== undefined) this.discarded.delete(oldest);
    }
    return error(reason);
  }
}

const error = (reason: string): FrameResult => ({ kind: 'error', reason });
