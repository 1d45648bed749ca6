import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import type { NodeStatus, RoomStatus } from '../../src/node/node-events.js';
import '../../src/ui/index.js';
import { mount, textOf, unmountAll } from './ui-test-helpers.js';
import { nodeStatus } from '../node-status.js';

function status(room: RoomStatus): NodeStatus {
  const peers = Array.from({ length: room.connected }, (_, i) => ({ peerId: `peer-${i}` as NodeId, displayName: null, via: 'webrtc', inSync: true, refused: 0, lastRefusal: null }));
  return nodeStatus({ nodeId: 'alice-node' as NodeId, room, displayName: null, peers });
}

describe('ednet-status-bar: the whole room', () => {
  afterEach(() => unmountAll());

  it('counts every device of the room, not only the connected ones', async () => {
    const all = await mount('ednet-status-bar', { status: status({ devices: 100, reached: 100, inSync: 99, connected: 7 }) });
    expect(textOf(all)).to.contain('in sync with all 99 devices (7 connected)');
    const partly = await mount('ednet-status-bar', { status: status({ devices: 100, reached: 100, inSync: 40, connected: 7 }) });
    expect(textOf(partly)).to.contain('in sync with 40 of 99 devices (7 connected)');
    expect(textOf(partly)).not.to.contain('in sync with all');
    const split = await mount('ednet-status-bar', { status: status({ devices: 100, reached: 67, inSync: 66, connected: 6 }) });
    expect(textOf(split)).to.contain('reaching 67 of 100 devices (6 connected)');
  });
});
