// A link whose key was altered (mistyped, tampered with, or from before a rotation). Opened by a
// stranger, it leads to a topic of its own: the members never hear of it. Opened by a member, it
// never silently replaces the key the member holds: the app asks which one to keep.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { browserAndServerForFile, openPage, waitUntil } from './harness.js';

const app = browserAndServerForFile();

/** The same link with another, well-formed key. @param {string} link */
const tampered = (link) => link.replace(/([?&]k=)[A-Za-z0-9_-]+/, `$1${randomBytes(32).toString('base64url')}`);

describe('a link with another key', () => {
  it('opened by a stranger leaves the members unchanged; opened by a member, asks which key to keep', async () => {
    const [alice, bob, stranger] = await Promise.all([1, 2, 3].map(async () => openPage(await app.browser.newContext())));
    try {
      await alice.page.goto(app.server.url);
      await alice.page.getByLabel(/Room name/).fill('Key room');
      await alice.page.getByRole('button', { name: 'Create room' }).click();
      await waitUntil(alice.page, () => window.ednet?.session != null);
      const link = alice.page.url();
      await bob.page.goto(link);
      for (const { page } of [alice, bob]) await waitUntil(page, () => window.ednet.session?.status.peers.length === 1);
      assert.equal(app.server.stats().rooms, 1);

      // What each member sees: the status bar's words and the Audit tab's refused input.
      const screen = async (/** @type {import('playwright-core').Page} */ page) => ({
        bar: (await page.locator('ednet-status-bar').evaluate((bar) => bar.shadowRoot?.textContent ?? '')).replace(/\s+/g, ' ').trim(),
        refusals: await page.evaluate(() => window.ednet.node?.refusals.length),
        alerts: await page.getByRole('alert').count(),
      });
      const before = await Promise.all([alice, bob].map(({ page }) => screen(page)));
      assert.deepEqual(before.map(({ refusals, alerts }) => [refusals, alerts]), [[0, 0], [0, 0]]);

      const altered = tampered(link);
      assert.notEqual(altered, link);
      await stranger.page.goto(altered);
      await waitUntil(stranger.page, () => window.ednet?.session?.status.signaling === 'connected');
      // The stranger is in the server's rooms, but in a topic of its own.
      assert.equal(app.server.stats().rooms, 2);
      assert.equal(app.server.stats().memberships, 3);
      // Its page does not pretend to be the room: it waits for a member, with no tabs to create in.
      await stranger.page.getByText('Looking for the other devices of this room…').waitFor();
      assert.equal(await stranger.page.getByRole('tab', { name: 'Elections' }).count(), 0);
      assert.equal(await stranger.page.evaluate(() => window.ednet.session?.held), false, 'the stranger holds the room');
      for (const [i, { page }] of [alice, bob].entries()) {
        const status = await page.evaluate(() => window.ednet.session?.status);
        assert.equal(status?.roomKeyProblem, null);
        assert.equal(status?.peers.length, 1);
        assert.equal(await page.locator('ednet-status-bar .room-key-problem').count(), 0);
        assert.deepEqual(await screen(page), before[i]);
      }
      assert.equal(await stranger.page.evaluate(() => window.ednet.session?.status.peers.length), 0);

      // Alice opens the altered link: she is asked, and her key stays until she chooses.
      await alice.page.goto(altered);
      const dialog = alice.page.getByRole('alertdialog');
      await dialog.getByText('This link has another key for Key room').waitFor();
      await dialog.getByRole('button', { name: 'Keep the key I have' }).click();
      await waitUntil(alice.page, (original) => window.ednet?.session != null && location.href === original, link);
      await waitUntil(alice.page, () => window.ednet.session?.status.peers.length === 1);
      assert.deepEqual([...alice.problems, ...bob.problems, ...stranger.problems], []);
    } finally {
      for (const peer of [alice, bob, stranger]) await peer.page.context().close();
    }
  });
});
