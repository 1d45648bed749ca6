import { expect } from 'chai';
import { CHUNK_HEADER_BYTES, encodeCloseFrame, MessageFramer, PING_FRAME, PONG_FRAME } from '../../src/net/message-framer.js';
import { MessageReassembler, type FrameResult } from '../../src/net/message-reassembler.js';
import { patterned } from './net-test-helpers.js';
import { expectSameBytes, expectEvery } from '../expectations.js';

/** A chunk frame written by hand: `[1][id][index][count][total][payload]`. */
function chunk(id: number, index: number, count: number, total: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const frame = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, 1);
  view.setUint32(1, id);
  view.setUint32(5, index);
  view.setUint32(9, count);
  view.setUint32(13, total);
  frame.set(payload, CHUNK_HEADER_BYTES);
  return frame;
}

const kinds = (results: FrameResult[]) => results.map((result) => result.kind);

describe('Message framing', () => {
  it('splits and joins messages of every size, each frame at most one chunk long', () => {
    const framer = new MessageFramer(100);
    const reassembler = new MessageReassembler();
    for (const size of [0, 1, 99, 100, 101, 1000, 12_345]) {
      const message = patterned(size, size);
      const frames = [...framer.frames(message)];
      expect(frames.length).to.equal(Math.max(1, Math.ceil(size / 100)));
      for (const frame of frames) expect(frame.byteLength).to.be.at.most(CHUNK_HEADER_BYTES + 100);
      const results = frames.map((frame) => reassembler.push(frame));
      const last = results.pop()!;
      expectEvery(kinds(results), (kind) => kind === 'pending');
      expect(last.kind).to.equal('message');
      expectSameBytes((last as { message: Uint8Array }).message, message);
    }
    expect(reassembler.bufferedBytes).to.equal(0);
  });

  it('carries a close reason, cut to 200 characters', () => {
    const reassembler = new MessageReassembler();
    expect(reassembler.push(encodeCloseFrame('bye'))).to.deep.equal({ kind: 'close', reason: 'bye' });
    const long = reassembler.push(encodeCloseFrame('x'.repeat(500)));
    expect(long.kind === 'close' && long.reason.length).to.equal(200);
  });

  it('refuses a message larger than the limit at its first chunk, and skips its other chunks quietly', () => {
    const reassembler = new MessageReassembler({ maxMessageBytes: 1000 });
    expect(reassembler.push(chunk(1, 0, 2, 2000, new Uint8Array(1000))).kind).to.equal('error');
    expect(reassembler.push(chunk(1, 1, 2, 2000, new Uint8Array(1000))).kind).to.equal('pending');
    expect(reassembler.bufferedBytes).to.equal(0);
    // The next message is fine.
    expect(reassembler.push(chunk(2, 0, 1, 3, new Uint8Array(3))).kind).to.equal('message');
  });

  it('refuses malformed and inconsistent chunk streams, reporting each once', () => {
    const reassembler = new MessageReassembler({ maxChunkBytes: 64 });
    const bad: Array<[string, Uint8Array]> = [
      ['empty frame', new Uint8Array(0)],
      ['unknown kind', new Uint8Array([9, 1, 2])],
      ['truncated header', new Uint8Array([1, 0, 0])],
      ['chunk too large', chunk(3, 0, 1, 65, new Uint8Array(65))],
      ['never started', chunk(4, 1, 2, 2, new Uint8Array(1))],
      ['too many chunks announced', chunk(5, 0, 10, 2, new Uint8Array(1))],
      ['more bytes than announced', chunk(6, 0, 1, 1, new Uint8Array(2))],
      ['fewer bytes than announced', chunk(7, 0, 1, 5, new Uint8Array(2))],
      ['empty chunk', chunk(8, 0, 2, 4, new Uint8Array(0))],
    ];
    for (const [what, frame] of bad) expect(reassembler.push(frame).kind, what).to.equal('error');
    // Out of order: chunk 2 before chunk 1.
    expect(reassembler.push(chunk(10, 0, 3, 3, new Uint8Array(1))).kind).to.equal('pending');
    expect(reassembler.push(chunk(10, 2, 3, 3, new Uint8Array(1))).kind).to.equal('error');
    expect(reassembler.push(chunk(10, 1, 3, 3, new Uint8Array(1))).kind).to.equal('pending');
    expect(reassembler.bufferedBytes).to.equal(0);
  });

  it('holds at most a few incomplete messages at once', () => {
    const reassembler = new MessageReassembler({ maxPartialMessages: 2 });
    expect(reassembler.push(chunk(1, 0, 2, 2, new Uint8Array(1))).kind).to.equal('pending');
    expect(reassembler.push(chunk(2, 0, 2, 2, new Uint8Array(1))).kind).to.equal('pending');
    expect(reassembler.push(chunk(3, 0, 2, 2, new Uint8Array(1))).kind).to.equal('error');
    expect(reassembler.push(chunk(1, 1, 2, 2, new Uint8Array(1))).kind).to.equal('message');
  });

  it('tells liveness probes and answers apart from data, and refuses them with a payload', () => {
    const reassembler = new MessageReassembler();
    expect(reassembler.push(new Uint8Array([PING_FRAME]))).to.deep.equal({ kind: 'ping' });
    expect(reassembler.push(new Uint8Array([PONG_FRAME]))).to.deep.equal({ kind: 'pong' });
    expect(reassembler.push(new Uint8Array([PING_FRAME, 0])).kind).to.equal('error');
    expect(reassembler.push(new Uint8Array([9])).kind).to.equal('error');
  });

  it('refuses a nonsense chunk size', () => {
    expect(() => new MessageFramer(0)).to.throw(RangeError);
    expect(() => new MessageFramer(1.5)).to.throw(RangeError);
  });
});
