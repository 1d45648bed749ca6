import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { VersionVector } from '../../src/crdt/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { PeerConnection } from '../../src/net/transport.js';
import { VersionCodec } from '../../src/sync/compact-versions.js';
import { PeerLink } from '../../src/sync/peer-link.js';
import { emptyCounters } from '../../src/sync/sync-engine-event.js';
import { type SyncMessage, decodeSyncMessage, isDecodeError } from '../../src/sync/sync-message.js';
import { COMPRESS_MIN_BYTES, decompressFrame, isCompressedFrame, splitBatch } from '../../src/sync/index.js';
import { eventually } from '../eventually.js';

/** A connection that records every frame handed to it. */
function recordingConnection(frames: Uint8Array[]): PeerConnection {
  return {
    peerId: asNodeId('bob'),
    via: 'memory',
    state: 'open',
    send: async (frame) => void frames.push(frame),
    onMessage: () => () => {},
    onClose: () => () => {},
    close: () => {},
  };
}

/** What the peer reads from `frames`, in order, versions rebuilt as its codec does. */
async function read(frames: Uint8Array[]): Promise<SyncMessage[]> {
  const codec = new VersionCodec();
  const messages: SyncMessage[] = [];
  for (const frame of frames) {
    const inflated = isCompressedFrame(frame) ? await decompressFrame(frame, 64 * 1024 * 1024) : frame;
    if ('error' in inflated) throw new Error(inflated.error);
    const decoded = decodeSyncMessage(inflated, 64 * 1024 * 1024);
    if (isDecodeError(decoded)) throw new Error(decoded.error);
    const whole = codec.incoming(decoded);
    if ('astray' in whole || isDecodeError(whole)) throw new Error(`versions of ${decoded.t} did not rebuild`);
    messages.push(whole);
  }
  return messages;
}

describe('PeerLink.send', () => {
  it("sends a large delta's compressed parts and the small messages sent meanwhile in send order, versions rebuilding exactly", async () => {
    const model = new ElectoralSystemModel({ modelId: 'election', nodeId: asNodeId('alice'), roles: 'open' });
    for (let i = 0; i < 3_000; i++) model.registerVoter({ name: `Voter ${i}`, voterNumber: `V${String(i).padStart(5, '0')}` });
    const delta = model.getDelta(new VersionVector());
    const parts = splitBatch({ ...delta, version: model.version.toJSON() }, 2_000);
    const frames: Uint8Array[] = [];
    const link = new PeerLink(recordingConnection(frames), emptyCounters(), (error) => {
      throw error;
    });
    link.protocol = 5;
    const sent: SyncMessage[] = [
      { t: 'hello', protocols: [5], node: asNodeId('alice'), models: { election: {} }, name: null, digests: {} },
    ];
    parts.forEach((batch, index) => {
      sent.push({ t: 'delta', seq: 1, part: index + 1, parts: parts.length, batch });
      // Sent while the parts before it wait for their compression: it must not overtake them.
      sent.push({ t: 'version', model: 'election', version: batch.version, request: false, sent: 1, seen: 0 });
    });
    sent.push({ t: 'info', name: 'Alice' });
    for (const message of sent) link.send(message);
    await eventually(() => frames.length === sent.length);
    const compressed = frames.filter(isCompressedFrame);
    expect(compressed).to.have.length(parts.length);
    for (const frame of frames) if (!isCompressedFrame(frame)) expect(frame.byteLength).to.be.lessThan(COMPRESS_MIN_BYTES);
    const received = await read(frames);
    expect(received.map((message) => message.t)).to.deep.equal(sent.map((message) => message.t));
    received.forEach((message, index) => {
      const original = sent[index]!;
      if (message.t === 'delta' && original.t === 'delta') {
        expect(message.part).to.equal(original.part);
        expect(message.batch.version).to.deep.equal(original.batch.version);
        expect(message.batch.changes).to.have.length(original.batch.changes.length);
      }
      if (message.t === 'version' && original.t === 'version') expect(message.version).to.deep.equal(original.version);
    });
  });
});
