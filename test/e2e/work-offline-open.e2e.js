// "Work offline" is the device's choice for a room, and it holds from the first moment a tab opens
// the room: a tab reloaded, or a new tab opened, while the device works offline never goes online
// first (it would send the edits the device kept back before the choice was applied). On the way,
// naming oneself is not an edit the undo stack offers to take back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerFirstRun, browserAndServerForFile, openPage, viewports, waitUntil } from './harness.js';

const app = browserAndServerForFile();

/**
 * Counts, in every page of `context`, the signaling connections and peer connections it makes,
 * from before the app's first script runs.
 * @param {import('playwright-core').BrowserContext} context
 */
async function countConnections(context) {
  await context.addInitScript(() => {
    const counts = { signaling: 0, peers: 0 };
    /** @type {any} */ (window).__connections = counts;
    const NativeSocket = window.WebSocket;
    window.WebSocket = class extends NativeSocket {
      /** @param {string | URL} url @param {string | string[]} [protocols] */
      constructor(url, protocols) {
        super(url, protocols);
        if (String(url).includes('/signaling')) counts.signaling++;
      }
    };
    const NativePeer = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends NativePeer {
      /** @param {RTCConfiguration} [configuration] */
      constructor(configuration) {
        super(configuration);
        counts.peers++;
      }
    };
  });
}

const holds = (/** @type {string} */ title) => window.ednet.model?.elections().find((election) => election.getAttribute('title') === title) !== undefined;

describe('work offline from the first moment', () => {
  it('a tab reloaded or opened while the device works offline connects to nothing, and the edits wait', async () => {
    const aliceDevice = await app.browser.newContext({ viewport: viewports.desktop });
    await countConnections(aliceDevice);
    const bobDevice = await app.browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true });
    const alice = await openPage(aliceDevice);
    const a = alice.page;
    await a.goto(app.server.url);
    await a.getByLabel(/Room name/).fill('Offline club');
    await a.getByRole('button', { name: 'Create room' }).click();
    await answerFirstRun(a, { name: 'Alice' });
    // Her name is a setting of the device, not an edit Ctrl+Z would take back (unnaming her for everyone).
    const undoDepth = () => a.evaluate(() => /** @type {any} */ (document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-undo-toast'))?.depth);
    assert.equal(await undoDepth(), 0);
    const bob = await openPage(bobDevice);
    const b = bob.page;
    await b.goto(a.url());
    await answerFirstRun(b, { name: 'Bob', created: false });
    await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);

    await a.getByRole('switch', { name: 'Work offline' }).check();
    await waitUntil(b, () => window.ednet.session?.status.peers.length === 0);
    await a.evaluate(() => window.ednet.model?.createElection({ title: 'Kept back' }));
    await waitUntil(a, () => window.ednet.session?.status.unsavedChanges === 0);

    // Reloaded: the room opens working offline, without a signaling or peer connection.
    await a.reload();
    await waitUntil(a, () => window.ednet.session != null);
    await waitUntil(a, (title) => window.ednet.model?.elections().find((election) => election.getAttribute('title') === title) !== undefined, 'Kept back');
    assert.equal(await a.getByRole('switch', { name: 'Work offline' }).isChecked(), true, 'the Work offline switch is on after a reload');
    assert.deepEqual(await a.evaluate(() => /** @type {any} */ (window).__connections), { signaling: 0, peers: 0 });
    assert.equal(await a.evaluate(() => window.ednet.session?.status.signaling), 'off');

    // A new tab of the device does the same.
    const second = await openPage(aliceDevice);
    await second.page.goto(a.url());
    await waitUntil(second.page, () => window.ednet.session != null);
    assert.equal(await second.page.getByRole('switch', { name: 'Work offline' }).isChecked(), true, "a new tab's Work offline switch is on");
    assert.deepEqual(await second.page.evaluate(() => /** @type {any} */ (window).__connections), { signaling: 0, peers: 0 });
    assert.equal(await b.evaluate(holds, 'Kept back'), false, 'bob holds the edit kept back');

    // Switched back: the edit reaches Bob.
    await second.page.getByRole('switch', { name: 'Work offline' }).uncheck();
    await waitUntil(b, (title) => window.ednet.model?.elections().find((election) => election.getAttribute('title') === title) !== undefined, 'Kept back');
    for (const { problems } of [alice, bob, second]) assert.deepEqual(problems, []);
    await aliceDevice.close();
    await bobDevice.close();
  });
});
