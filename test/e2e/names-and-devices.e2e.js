// The first minutes in a room, as two people on two devices live them, in the system Chromium
// against the real app server: Alice creates a room, is asked her name once and gets the
// invitation sheet; Bob joins by the link and is asked his; each sees the room's shared name and
// the other's name, also after Bob has gone. Then "Work offline" with two tabs of Alice's device:
// nothing reaches Bob until she switches back, whichever tab she switched in.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, screenshot, startServer, viewports, waitUntil } from './harness.js';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').BrowserContext} */
let aliceDevice;
/** @type {import('playwright-core').BrowserContext} */
let bobDevice;
/** @type {Array<Awaited<ReturnType<typeof openPage>>>} */
const pages = [];

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  aliceDevice = await browser.newContext({ viewport: viewports.desktop });
  bobDevice = await browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** @param {import('playwright-core').BrowserContext} context */
async function newPage(context) {
  const opened = await openPage(context);
  pages.push(opened);
  return opened;
}

/** @param {() => Promise<void>} scenario */
async function explained(scenario) {
  try {
    await scenario();
  } catch (error) {
    for (const [index, { logs }] of pages.entries()) console.log(`--- page ${index} console ---\n${logs.slice(-30).join('\n')}`);
    throw error;
  }
}

/** The two status lines as the page shows them. @param {import('playwright-core').Page} page */
const statusText = (page) => page.locator('ednet-status-bar .lines').innerText();

/** @type {string} */
let link;

describe('names that travel', () => {
  it('asks each person a name once, invites right away, and shows names to everyone, also after one leaves', () =>
    explained(async () => {
      const alice = await newPage(aliceDevice);
      const a = alice.page;
      await a.goto(server.url);
      await a.getByLabel(/Room name/).fill('Club vote');
      await a.getByRole('button', { name: 'Create room' }).click();
      // Asked once for a name, then the invitation sheet opens.
      const asked = a.getByRole('dialog', { name: 'What should others call you?' });
      await asked.waitFor();
      await asked.getByLabel('Your display name').fill('Alice');
      await asked.getByRole('button', { name: 'Save name' }).click();
      const invite = a.getByRole('dialog', { name: 'Invite people to Club vote' });
      await invite.waitFor();
      link = await invite.locator('input#link').inputValue();
      assert.equal(link, a.url());
      await screenshot(a, 'invite-sheet-desktop');
      await a.keyboard.press('Escape');
      await invite.waitFor({ state: 'hidden' });

      const bob = await newPage(bobDevice);
      const b = bob.page;
      await b.goto(link);
      const bobAsked = b.getByRole('dialog', { name: 'What should others call you?' });
      await bobAsked.waitFor();
      await bobAsked.getByLabel('Your display name').fill('Bob');
      await bobAsked.getByRole('button', { name: 'Save name' }).click();
      // A joiner is not shown the invitation.
      await b.getByRole('dialog', { name: 'What should others call you?' }).waitFor({ state: 'hidden' });
      assert.equal(await b.getByRole('dialog').count(), 0);

      // The room's name is the shared one, and each sees the other's name.
      await b.locator('ednet-app header .room-name', { hasText: 'Club vote' }).waitFor();
      await waitUntil(a, () => /Connected to Bob/.test(document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-status-bar')?.shadowRoot?.querySelector('.lines')?.textContent ?? ''));
      await waitUntil(b, () => /Connected to Alice/.test(document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-status-bar')?.shadowRoot?.querySelector('.lines')?.textContent ?? ''));
      assert.match(await statusText(b), /Connected to Alice/);
      await b.getByRole('tab', { name: 'Room' }).click();
      const bobsPeople = b.locator('ednet-room-people');
      await bobsPeople.locator('.name', { hasText: 'Alice' }).waitFor();
      await bobsPeople.locator('.name', { hasText: 'Bob (you)' }).waitFor();
      await b.locator('ednet-room-details').getByText('Named by Alice; only they can rename it.').waitFor();
      await screenshot(b, 'room-tab-phone');

      // Alice deletes a candidate and takes it back; Bob sees both, since undo is an ordinary edit.
      const candidate = await a.evaluate(() => {
        const model = window.ednet.model;
        if (!model) throw new Error('no room open');
        const election = model.createElection({ title: 'Treasurer' });
        return model.addCandidate(election.oid, { name: 'Ann' }).oid;
      });
      const bobHolds = (/** @type {boolean} */ live) =>
        waitUntil(b, ([oid, wanted]) => (window.ednet.model?.get(oid) !== undefined) === wanted, [candidate, live]);
      await bobHolds(true);
      await a.getByRole('tab', { name: 'Elections' }).click();
      await a.getByRole('button', { name: 'Remove Ann' }).click();
      const toast = a.locator('ednet-undo-toast');
      await toast.getByText('Deleted candidate “Ann”').waitFor();
      await bobHolds(false);
      await toast.getByRole('button', { name: 'Undo' }).click();
      await toast.getByText('Undone: deleted candidate “Ann”.').waitFor();
      await bobHolds(true);
      assert.equal(await b.evaluate((oid) => window.ednet.model?.candidates(String(window.ednet.model.get(oid)?.getAttribute('election'))).find((c) => c.oid === oid) !== undefined, candidate), true, 'the restored candidate is back in its election at bob');
      // Ctrl+Z undoes the latest deletion too.
      await a.getByRole('button', { name: 'Remove Ann' }).click();
      await bobHolds(false);
      await a.locator('body').press('Control+z');
      await bobHolds(true);
      // Ctrl+Z takes back other edits too (here a title change), and Bob sees that as well.
      const electionId = await a.evaluate((oid) => String(window.ednet.model?.get(oid)?.getAttribute('election')), candidate);
      const bobSeesTitle = (/** @type {string} */ title) =>
        waitUntil(b, ([oid, wanted]) => window.ednet.model?.get(oid)?.getAttribute('title') === wanted, [electionId, title]);
      await a.evaluate((oid) => window.ednet.model?.update(oid, { title: 'Treasurer 2027' }), electionId);
      await bobSeesTitle('Treasurer 2027');
      await a.locator('body').press('Control+z');
      await a.locator('ednet-undo-toast').getByText('Undone: changed title of election “Treasurer 2027”.').waitFor();
      await bobSeesTitle('Treasurer');

      // Bob leaves: Alice still knows him by name.
      await b.close();
      await a.getByRole('tab', { name: 'Room' }).click();
      const people = a.locator('ednet-room-people li', { hasText: 'Bob' }).first();
      await people.getByText('not connected now').waitFor();
      await a.reload();
      await a.getByRole('tab', { name: 'Room' }).click();
      await a.locator('ednet-room-people li', { hasText: 'Bob' }).first().waitFor();
      await a.locator('ednet-app header .room-name', { hasText: 'Club vote' }).waitFor();
      // Asked once: not again after a reload.
      assert.equal(await a.getByRole('dialog', { name: 'What should others call you?' }).isVisible(), false, 'the name question shows again after a reload');
      for (const { problems } of pages) assert.deepEqual(problems, []);
    }));

  it('"Work offline" holds for every tab of the device: nothing reaches another device until switched back', () =>
    explained(async () => {
      const [tabA, tabB, bob] = [await newPage(aliceDevice), await newPage(aliceDevice), await newPage(bobDevice)];
      for (const { page } of [tabA, tabB, bob]) await page.goto(link);
      for (const { page } of [tabA, tabB, bob]) await waitUntil(page, () => window.ednet?.session != null);
      const bobDeviceId = await bob.page.evaluate(() => window.ednet.session?.node.nodeId.slice(0, 32));
      for (const { page } of [tabA, tabB])
        await waitUntil(page, (device) => window.ednet.session?.status.peers.some((peer) => peer.peerId.startsWith(device)) === true, bobDeviceId);

      // Switched in tab A: tab B follows, and Bob loses both.
      await tabA.page.getByRole('switch', { name: 'Work offline' }).check();
      await waitUntil(tabB.page, () => window.ednet.session?.status.online === false && window.ednet.session.status.peers.length === 0);
      await waitUntil(bob.page, () => window.ednet.session?.status.peers.length === 0);
      assert.equal(await tabB.page.getByRole('switch', { name: 'Work offline' }).isChecked(), true, "tab B's Work offline switch is on");
      assert.match(await statusText(tabB.page), /Working offline on this device/);

      // Alice's edit in tab A reaches tab B through the device's storage, and stops there.
      await tabA.page.evaluate(() => window.ednet.model?.createElection({ title: 'Made offline' }));
      await waitUntil(tabB.page, () => window.ednet.model?.elections().find((election) => election.getAttribute('title') === 'Made offline') !== undefined);
      assert.equal(await bob.page.evaluate(() => window.ednet.model?.elections().find((election) => election.getAttribute('title') === 'Made offline') !== undefined), false, "bob holds the election made offline");
      assert.equal(await bob.page.evaluate(() => window.ednet.session?.status.peers.length), 0);
      assert.match(await statusText(tabA.page), /1 of your edits is waiting to be sent/);
      await screenshot(tabA.page, 'working-offline-desktop');

      // Switched back in tab B: both tabs go online, and Bob gets the edit.
      await tabB.page.getByRole('switch', { name: 'Work offline' }).uncheck();
      await waitUntil(tabA.page, () => window.ednet.session?.status.online === true);
      await waitUntil(bob.page, () => window.ednet.model?.elections().find((election) => election.getAttribute('title') === 'Made offline') !== undefined);
      await waitUntil(tabA.page, () => window.ednet.session?.status.unsentChanges === 0);
      await waitUntil(tabA.page, () => /Everything saved and sent/.test(document.querySelector('ednet-app')?.shadowRoot?.querySelector('ednet-room-page')?.shadowRoot?.querySelector('ednet-status-bar')?.shadowRoot?.querySelector('.lines')?.textContent ?? ''));
      for (const { problems } of pages) assert.deepEqual(problems, []);
    }));
});
