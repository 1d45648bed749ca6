import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientFrame } from '../../signaling/client-frames.js';
import { isRefusal, MAX_DATA_DEPTH } from '../../src/protocol/signaling-protocol.js';

const decode = (/** @type {unknown} */ frame, maxFrameBytes = 1024) =>
  decodeClientFrame(Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame)), false, maxFrameBytes);

test('well-formed frames decode to exactly their fields; extra fields are dropped', () => {
  assert.deepEqual(decode({ type: 'join', room: 'room:1.a_b-c', peer: 'Alice_1-x', from: 'mallory' }), { type: 'join', room: 'room:1.a_b-c', peer: 'Alice_1-x' });
  assert.deepEqual(decode({ type: 'leave', room: 'r', peer: 'x' }), { type: 'leave', room: 'r' });
  assert.deepEqual(decode({ type: 'signal', room: 'r', to: 'bob', from: 'carol', data: { a: [1] } }), { type: 'signal', room: 'r', to: 'bob', data: { a: [1] } });
  assert.deepEqual(decode({ type: 'signal', room: 'r', to: 'bob', data: null }), { type: 'signal', room: 'r', to: 'bob', data: null });
  assert.deepEqual(decode({ type: 'ping', extra: 1 }), { type: 'ping' });
});

test('the size limit counts bytes and applies before anything is parsed', () => {
  const refusal = decode('x'.repeat(1025));
  assert.ok(isRefusal(refusal));
  assert.equal(refusal.code, 'frame-too-large');
  assert.ok(!isRefusal(decode({ type: 'ping', pad: 'x'.repeat(1000) }, 1024)));
  assert.equal(/** @type {any} */ (decode({ type: 'ping', pad: 'ü'.repeat(600) })).code, 'frame-too-large');
});

test('fragmented and ArrayBuffer payloads decode like a single buffer', () => {
  const text = JSON.stringify({ type: 'ping' });
  assert.deepEqual(decodeClientFrame([Buffer.from(text.slice(0, 5)), Buffer.from(text.slice(5))], false, 1024), { type: 'ping' });
  const bytes = new TextEncoder().encode(text);
  assert.deepEqual(decodeClientFrame(bytes.buffer, false, 1024), { type: 'ping' });
});

test('signal data may nest up to the depth limit and no deeper', () => {
  const nest = (/** @type {number} */ depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
  assert.ok(!isRefusal(decode({ type: 'signal', room: 'r', to: 'bob', data: nest(MAX_DATA_DEPTH) })));
  assert.equal(/** @type {any} */ (decode({ type: 'signal', room: 'r', to: 'bob', data: nest(MAX_DATA_DEPTH + 1) })).code, 'bad-frame');
});

test('ref names the refused frame type only when it is a short token', () => {
  assert.equal(/** @type {any} */ (decode({ type: 'x'.repeat(41) })).ref, undefined);
  assert.equal(/** @type {any} */ (decode({ type: '<script>' })).ref, undefined);
  assert.equal(/** @type {any} */ (decode({ type: 'subscribe' })).ref, 'subscribe');
});

test('a prototype-polluting payload stays plain data', () => {
  const frame = decode('{"type":"signal","room":"r","to":"bob","data":{"__proto__":{"polluted":true}}}');
  assert.ok(!isRefusal(frame));
  assert.equal(/** @type {any} */ ({}).polluted, undefined);
  assert.equal(JSON.stringify(/** @type {any} */ (frame).data), '{"__proto__":{"polluted":true}}');
});

test('any input decodes to a checked frame or a refusal, never a throw', async () => {
  const fc = (await import('fast-check')).default;
  const ROOM = /^[A-Za-z0-9_.:-]{1,128}$/;
  const PEER = /^[A-Za-z0-9_-]{1,64}$/;
  const fieldValue = fc.oneof(fc.string(), fc.constantFrom('r', 'alice', 'join', 'leave', 'signal', 'ping'), fc.jsonValue());
  const frameLike = fc.record(
    { type: fc.oneof(fc.constantFrom('join', 'leave', 'signal', 'ping'), fc.jsonValue()), room: fieldValue, peer: fieldValue, to: fieldValue, data: fc.jsonValue() },
    { requiredKeys: [] },
  );
  const input = fc.oneof(
    fc.string().map((text) => Buffer.from(text)),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
    fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')),
    frameLike.map((value) => Buffer.from(JSON.stringify(value))),
  );
  fc.assert(
    fc.property(input, fc.boolean(), (bytes, isBinary) => {
      const result = /** @type {any} */ (decodeClientFrame(bytes, isBinary, 4096));
      if (isRefusal(result)) return typeof result.code === 'string' && typeof result.message === 'string';
      if (isBinary) return false;
      switch (result.type) {
        case 'join':
          return ROOM.test(result.room) && PEER.test(result.peer) && Object.keys(result).length === 3;
        case 'leave':
          return ROOM.test(result.room) && Object.keys(result).length === 2;
        case 'signal':
          return ROOM.test(result.room) && PEER.test(result.to) && 'data' in result && Object.keys(result).length === 4;
        case 'ping':
          return Object.keys(result).length === 1;
        default:
          return false;
      }
    }),
    { numRuns: 2000 },
  );
});
