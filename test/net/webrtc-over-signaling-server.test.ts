import { expect } from 'chai';
import { closed, eventually, inbox, patterned, uniqueIds, uniqueRoom } from './net-test-helpers.js';
import { startRtcNode, type RtcNode } from './rtc-node.js';
import { signalingServerUrl } from './signaling-server-url.js';
import { expectSameBytes } from '../expectations.js';

describe('WebRTC peers found and introduced by the real signaling server', () => {
  const nodes: RtcNode[] = [];
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop();
  });

  async function start(count: number): Promise<RtcNode[]> {
    const url = await signalingServerUrl();
    const room = uniqueRoom();
    const ids = uniqueIds('alice', 'bob', 'carol').slice(0, count);
    for (const id of ids) nodes.push(await startRtcNode(id, url, room));
    return [...nodes];
  }

  it('two peers connect by themselves and exchange messages both ways', async () => {
    const [a, b] = (await start(2)) as [RtcNode, RtcNode];
    await eventually(() => a.connectionTo(b.nodeId)?.state === 'open' && b.connectionTo(a.nodeId)?.state === 'open');
    expect(a.manager.connections).to.have.length(1);
    expect(b.manager.connections).to.have.length(1);
    expect(a.connectionTo(b.nodeId)!.via).to.equal('webrtc');
    await a.sendText(b.nodeId, 'hello bob');
    await b.sendText(a.nodeId, 'hello alice');
    await eventually(() => a.received.length === 1 && b.received.length === 1);
    expect(b.received).to.deep.equal([`${a.nodeId}: hello bob`]);
    expect(a.received).to.deep.equal([`${b.nodeId}: hello alice`]);

    const toA = inbox(a.connectionTo(b.nodeId)!);
    const large = patterned(2 * 1024 * 1024, 8);
    await b.connectionTo(a.nodeId)!.send(large);
    await eventually(() => toA.length === 1);
    expectSameBytes(toA[0]!, large);
  });

  it('three peers make a full mesh, one connection per pair', async () => {
    const peers = await start(3);
    await eventually(() => peers.every((node) => node.manager.connections.length === 2));
    for (const node of peers) {
      const others = peers.filter((other) => other !== node).map((other) => other.nodeId).sort();
      expect(node.manager.connections.map((connection) => connection.peerId).sort()).to.deep.equal(others);
    }
  });

  it('a peer that leaves is disconnected at the other end and forgotten', async () => {
    const [a, b] = (await start(2)) as [RtcNode, RtcNode];
    await eventually(() => a.connectionTo(b.nodeId)?.state === 'open');
    const atA = a.connectionTo(b.nodeId)!;
    const gone = closed(atA);
    let left = false;
    a.discovery.onEvent((event) => (left ||= event.type === 'peer-disconnected' && event.peerAddress.nodeId === b.nodeId));
    await b.stop();
    nodes.splice(nodes.indexOf(b), 1);
    expect(await gone).to.be.a('string');
    // The data channel and the server may tell in either order.
    await eventually(() => left && a.manager.connections.length === 0);
    expect(await a.discovery.discoverPeers()).to.deep.equal([]);
  });
});
