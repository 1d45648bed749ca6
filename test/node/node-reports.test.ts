import { expect } from 'chai';
import { asNodeId } from '../../src/crdt/dot.js';
import { NodeReports } from '../../src/node/node-reports.js';
import type { InputRefusedEvent } from '../../src/node/node-events.js';

describe('NodeReports', () => {
  const author = asNodeId('author-device');
  const relays = [asNodeId('relay-one'), asNodeId('relay-two')];

  it('logs an equivocation once per operation, against its author, and never beside the relays that brought it', () => {
    const announced: InputRefusedEvent[] = [];
    const reports = new NodeReports(
      () => {},
      (refusal) => announced.push(refusal),
    );
    reports.equivocation('m', author, 'Mallory', 7, relays[0]!);
    reports.equivocation('m', author, 'Mallory', 7, relays[1]!);
    reports.equivocation('m', author, 'Mallory', 8, relays[1]!);
    reports.equivocation('other', author, 'Mallory', 7, relays[0]!);
    expect(announced.map((refusal) => [refusal.peerId, refusal.peerName])).to.deep.equal([
      [author, 'Mallory'],
      [author, 'Mallory'],
      [author, 'Mallory'],
    ]);
    expect(announced[0]!.reason).to.include(`${author}:7`).and.include('equivocation').and.include(relays[0]);
    expect(reports.refusals).to.have.length(3);
    for (const relay of relays) expect(reports.lastRefusalOf(relay)).to.equal(null);
    expect(reports.lastRefusalOf(author)).to.equal(null);
  });
});
