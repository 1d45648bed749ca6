import { expect } from 'chai';
import { VersionVector } from '../../src/crdt/index.js';
import type { ChangeBatch } from '../../src/domain/index.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import { type DeltaEncoding, decodeSyncMessage, encodeSyncMessage, isDecodeError } from '../../src/sync/index.js';
import { buildOurs } from '../../bench/lib/electoral-workload.js';

const ENTITIES = 10_000;
const EDITS = 100;

async function deflatedBytes(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Wire bytes of one delta message carrying `batch`, checked to decode back to the same batch. */
function wireBytes(batch: ChangeBatch, encoding: DeltaEncoding): Uint8Array {
  const bytes = encodeSyncMessage({ t: 'delta', seq: 1, part: 1, parts: 1, batch }, encoding);
  const decoded = decodeSyncMessage(bytes, 64 * 1024 * 1024);
  if (isDecodeError(decoded)) throw new Error(decoded.error);
  return bytes;
}

describe('delta bytes on the wire, 10,000-entity electoral model (prints the sizes)', function () {
  this.timeout(5 * 60 * 1000);

  it('after 100 attribute edits, and the whole model for a fresh peer: packed against JSON', async () => {
    // The benchmarks' electoral workload: 10 elections of 4 candidates, voters, a ballot from all voters but 50.
    const { model, voters } = buildOurs({ ElectoralSystemModel }, ENTITIES, 'alice');
    const whole = model.getDelta(new VersionVector());
    const since = model.version.clone();
    for (let i = 0; i < EDITS; i++) voters[(i * 37) % voters.length]!.setAttribute('name', `Renamed ${i}`);
    const edits = model.getDelta(since);
    expect(edits.changes).to.have.length(EDITS);
    expect(whole.changes.length).to.be.greaterThan(ENTITIES);
    const rows: Record<string, Record<string, number>> = {};
    for (const [label, batch] of [
      [`${EDITS} attribute edits`, edits],
      [`whole model (${whole.changes.length} changes)`, whole],
    ] as const) {
      const json = wireBytes(batch, 'json');
      const compact = wireBytes(batch, 'compact');
      rows[label] = {
        json: json.byteLength,
        compact: compact.byteLength,
        'json deflate-raw': await deflatedBytes(json),
        'compact deflate-raw': await deflatedBytes(compact),
      };
      expect(compact.byteLength).to.be.lessThan(json.byteLength / 3);
    }
    console.log(`delta bytes on the wire:\n${JSON.stringify(rows, null, 2)}`);
  });
});
