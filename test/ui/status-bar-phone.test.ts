import { setViewport } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/index.js';
import type { NodeStatus, PeerInfo } from '../../src/node/node-events.js';
import '../../src/ui/index.js';
import { eventually } from '../eventually.js';
import { axeViolations, find, findAll, mount, settle, textOf, unmountAll } from './ui-test-helpers.js';
import { nodeStatus } from '../node-status.js';

const status = nodeStatus;

const bob: PeerInfo = { peerId: 'bob-node-0123456789' as NodeId, displayName: 'Bob', via: 'webrtc', inSync: true, refused: 0, lastRefusal: null };

/** Every status line shows whole: nothing cut off with an ellipsis. */
function linesFit(bar: HTMLElement): boolean {
  return findAll(bar, [], '.line .text').every((text) => text.scrollWidth <= text.clientWidth);
}

describe('ednet-status-bar on a 390 px phone', () => {
  afterEach(async () => {
    unmountAll();
    await setViewport({ width: 1024, height: 768 });
  });

  it('says each line whole in short words, and the whole sentence to a screen reader', async () => {
    await setViewport({ width: 390, height: 844 });
    const cases: Array<[Partial<NodeStatus>, boolean, string, string]> = [
      [{ peers: [bob], receiving: { modelId: 'm', peerId: bob.peerId, part: 3, parts: 10, items: 3_000 } }, false, 'Receiving 3,000 of ~10,000 items', 'Receiving the room from Bob: 3,000 of about 10,000 items'],
      [{ peers: [bob], receiving: { modelId: 'm', peerId: bob.peerId, part: 4, parts: 10 } }, false, 'Receiving part 4 of 10', 'Receiving the room from Bob: part 4 of 10'],
      [{ unsentChanges: 900, unsentEdits: 402 }, false, '402 edits waiting to be sent', '402 of your edits are waiting to be sent'],
      [{ signaling: 'disconnected' }, false, 'Can’t reach the server', 'Can’t reach the server to find others'],
      [{ online: false, signaling: 'off', unsentChanges: 1, unsentEdits: 1 }, true, 'Working offline on this device', 'Working offline on this device (every tab of this room)'],
    ];
    for (const [overrides, workOffline, shown, read] of cases) {
      const bar = await mount('ednet-status-bar', { status: status(overrides), workOffline, unsentEdits: overrides.unsentEdits });
      await eventually(() => textOf(find(bar, '.lines')).includes(shown), `"${shown}" on the phone`);
      await settle();
      expect(linesFit(bar), `${shown}: ${findAll(bar, [], ".line .text").map((t) => `${t.textContent} ${t.scrollWidth}/${t.clientWidth}`).join("; ")}`).to.equal(true);
      // The short words are for the eyes; a screen reader hears the whole sentence once.
      expect(find(bar, '.lines .visually-hidden').parentElement!.querySelector('[aria-hidden="true"]')).not.to.equal(null);
      expect(textOf(find(bar, '.lines'))).to.contain(read);
      unmountAll();
    }
  });

  it('keeps the opened details within the screen, scrolling inside, under a sticky bar', async () => {
    await setViewport({ width: 390, height: 844 });
    const peers = Array.from({ length: 20 }, (_, i) => ({ ...bob, peerId: `peer-${i}-node-0123456789` as NodeId, displayName: `Person ${i}` }));
    const bar = await mount('ednet-status-bar', { status: status({ peers }) });
    bar.style.position = 'sticky';
    bar.style.top = '0';
    find<HTMLButtonElement>(bar, 'button.toggle').click();
    await settle();
    const details = find(bar, '#details');
    expect(details.getBoundingClientRect().bottom).to.be.at.most(844);
    expect(details.scrollHeight).to.be.greaterThan(details.clientHeight);
    // The last connection is reached by scrolling the details themselves.
    const last = findAll(bar, [], 'ul.peers li').at(-1)!;
    last.scrollIntoView({ block: 'nearest' });
    expect(last.getBoundingClientRect().bottom).to.be.at.most(844);
    expect(await axeViolations(bar)).to.deep.equal([]);
  });
});
