import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { NOBODY_ONLINE_AFTER_MS } from '../../src/app/ednet-room-arrival.js';
import { ManualTimers } from '../manual-timers.js';
import '../../src/app/ednet-room-page.js';
import type { RoomSession } from '../../src/app/room-session.js';
import { ElectoralSystemModel } from '../../src/models/electoral/index.js';
import type { EDNetP2PNode } from '../../src/node/ednet-p2p-node.js';
import type { NodeStatus, PeerInfo } from '../../src/node/node-events.js';
import { find, mount, settle, textOf, unmountAll } from '../ui/ui-test-helpers.js';
import { nodeStatus } from '../node-status.js';

const nodeId = 'bob-node' as NodeId;

function status(patch: Partial<NodeStatus> = {}): NodeStatus {
  return nodeStatus({ nodeId, displayName: null, signaling: 'connecting', ...patch });
}

const alice: PeerInfo = { peerId: 'alice-node' as NodeId, displayName: 'Alice', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null };

/** A session of a room this device never held; the test drives its status and `held`. */
function arrivingSession() {
  const listeners = new Set<(status: NodeStatus) => void>();
  const session = {
    room: { roomId: 'r1', secret: 'x' },
    node: { nodeId } as unknown as EDNetP2PNode,
    model: new ElectoralSystemModel({ modelId: 'electoral', nodeId, roles: 'open' }),
    status: status(),
    held: false,
    onStatus: (listener: (status: NodeStatus) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setDisplayName: () => undefined,
    setWorkOffline: () => undefined,
    exportRoom: async () => new Blob(['{}']),
    importRoom: async () => ({ ok: true as const, value: [] }),
    close: async () => undefined,
  };
  const emit = (next: NodeStatus) => {
    session.status = next;
    for (const listener of listeners) listener(next);
  };
  return { session: session as RoomSession & { held: boolean; status: NodeStatus }, emit };
}

describe('a room this device never held', () => {
  afterEach(() => unmountAll());

  it('looks for the room’s devices, and says nobody is online only after a while with the server reached', async () => {
    const clock = new ManualTimers();
    const arrival = document.createElement('ednet-room-arrival');
    arrival.clock = clock;
    arrival.status = status({ signaling: 'connecting' });
    document.body.append(arrival);
    await settle();
    expect(textOf(arrival)).to.contain('Looking for the other devices of this room…');
    // Without the server nobody can be found, so there is nothing to time yet.
    expect(clock.scheduled).to.equal(0);

    arrival.status = status({ signaling: 'connected' });
    await settle();
    expect(clock.delays).to.deep.equal([NOBODY_ONLINE_AFTER_MS]);
    expect(textOf(arrival)).to.contain('Looking for the other devices of this room…');
    clock.runAll();
    await settle();
    expect(textOf(arrival)).to.contain('Nobody from this room is online.');
    expect(textOf(arrival)).to.contain('The room appears when one of them opens it.');
    expect(textOf(arrival)).not.to.contain('Looking for');

    // The server lost: looking again, and "a while" starts over once it is back.
    arrival.status = status({ signaling: 'disconnected' });
    await settle();
    expect(textOf(arrival)).to.contain('Looking for the other devices of this room…');
    expect(clock.scheduled).to.equal(0);
    arrival.status = status({ signaling: 'connected' });
    await settle();
    expect(clock.scheduled).to.equal(1);
    arrival.remove();
    expect(clock.scheduled).to.equal(0);
  });

  it('shows no tabs inviting to create until a first peer connects, then the room', async () => {
    const { session, emit } = arrivingSession();
    const page = await mount('ednet-room-page', { session });
    expect(page.shadowRoot!.querySelector('ednet-room-arrival')).to.not.equal(null);
    expect(page.shadowRoot!.querySelector('[role="tablist"]')).to.equal(null);
    expect(page.shadowRoot!.querySelector('ednet-elections-view')).to.equal(null);
    expect(textOf(find(page, 'ednet-room-arrival'))).to.contain('Looking for the other devices of this room…');
    // The status bar stays: it says whether the server is reached.
    expect(page.shadowRoot!.querySelector('ednet-status-bar')).to.not.equal(null);

    emit(status({ signaling: 'connected' }));
    await settle();
    expect(page.shadowRoot!.querySelector('[role="tablist"]')).to.equal(null);

    // The session marks the room held when the first peer connects (before the page hears of it).
    session.held = true;
    emit(status({ signaling: 'connected', peers: [alice] }));
    await settle();
    expect(page.shadowRoot!.querySelector('ednet-room-arrival')).to.equal(null);
    expect(page.shadowRoot!.querySelector('[role="tablist"]')).to.not.equal(null);
    expect(page.shadowRoot!.querySelector('ednet-elections-view')).to.not.equal(null);
  });

  it('a held room opens on its tabs at once, peers or not', async () => {
    const { session } = arrivingSession();
    session.held = true;
    const page = await mount('ednet-room-page', { session });
    expect(page.shadowRoot!.querySelector('ednet-room-arrival')).to.equal(null);
    expect(page.shadowRoot!.querySelector('[role="tablist"]')).to.not.equal(null);
  });
});
