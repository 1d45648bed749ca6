import { expect } from 'chai';
import type { NodeId } from '../../src/crdt/dot.js';
import { eventually, uniqueIds, uniqueRoom } from './net-test-helpers.js';
import type { RtcPage } from './rtc-page.js';
import { signalingServerUrl } from './signaling-server-url.js';

/** Opens a same-origin iframe running one WebRTC peer; resolves with it once it is started. */
function openPage(nodeId: string, url: string, room: string): { frame: HTMLIFrameElement; ready: Promise<RtcPage> } {
  const frame = document.createElement('iframe');
  const ready = new Promise<RtcPage>((resolve) => {
    const listen = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow || event.data?.type !== 'rtc-page-ready') return;
      window.removeEventListener('message', listen);
      resolve((frame.contentWindow as unknown as { rtcPage: RtcPage }).rtcPage);
    };
    window.addEventListener('message', listen);
  });
  const module = new URL('./rtc-page.ts', import.meta.url).pathname;
  const args = [nodeId, url, room].map((arg) => JSON.stringify(arg)).join(', ');
  frame.srcdoc = `<script type="module">import { startRtcPage } from '${module}'; startRtcPage(${args});</script>`;
  document.body.append(frame);
  return { frame, ready };
}

describe('WebRTC between two pages (iframes, each its own realm), introduced by the real server', () => {
  const frames: HTMLIFrameElement[] = [];
  afterEach(() => {
    for (const frame of frames.splice(0)) frame.remove();
  });

  it('the pages connect, exchange messages and a large one, and a page that vanishes is noticed', async () => {
    const url = await signalingServerUrl();
    const room = uniqueRoom();
    const [alice, bob] = uniqueIds('alice', 'bob') as [NodeId, NodeId];
    const pageA = openPage(alice, url, room);
    const pageB = openPage(bob, url, room);
    frames.push(pageA.frame, pageB.frame);
    const [a, b] = await Promise.all([pageA.ready, pageB.ready]);
    await eventually(() => a.connectedPeers().includes(bob) && b.connectedPeers().includes(alice));

    await a.sendText(bob, 'from the first page');
    await b.sendText(alice, 'from the second page');
    await eventually(() => a.received().length === 1 && b.received().length === 1);
    expect(b.received()).to.deep.equal([`${alice}: from the first page`]);
    expect(a.received()).to.deep.equal([`${bob}: from the second page`]);

    const sum = await b.sendLarge(alice, 10 * 1024 * 1024);
    await eventually(() => a.largeReceived().length === 1);
    expect(a.largeReceived()).to.deep.equal([sum]);

    // The second page goes away without a word (like a closed tab).
    pageB.frame.remove();
    await eventually(() => a.connectedPeers().length === 0);
  });
});
