// Two browsers in one room, in the system Chromium against the real app server (static app and
// signaling on one port). Alice (desktop) creates the room and the election; Bob (phone) joins
// through the shared link and votes; both must show the same results. Then Alice goes offline,
// both edit the same election, Alice comes back, and both converge with the conflict listed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, openPage, screenshot, startServer, viewports, waitUntil } from './harness.js';

const ELECTION = 'Board 2026';
const CANDIDATES = [
  { name: 'Ada Lovelace', party: 'Analytical' },
  { name: 'Grace Hopper', party: 'Compilers' },
];
const VOTERS = [
  { name: 'Carol', number: 'V-1', votesFor: 'Ada Lovelace' },
  { name: 'Dave', number: 'V-2', votesFor: 'Grace Hopper' },
  { name: 'Erin', number: 'V-3', votesFor: 'Ada Lovelace' },
];

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').BrowserContext} */
let aliceContext;
/** @type {import('playwright-core').BrowserContext} */
let bobContext;
/** @type {Awaited<ReturnType<typeof openPage>>} */
let alice;
/** @type {Awaited<ReturnType<typeof openPage>>} */
let bob;

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  aliceContext = await browser.newContext({ viewport: viewports.desktop });
  bobContext = await browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true });
  alice = await openPage(aliceContext);
  bob = await openPage(bobContext);
});

/**
 * Runs a scenario; if it fails, prints both pages' recent console output (connection and sync
 * warnings explain a sync that never came).
 * @param {() => Promise<void>} scenario
 */
async function explained(scenario) {
  try {
    await scenario();
  } catch (error) {
    for (const [name, peer] of /** @type {const} */ ([['alice', alice], ['bob', bob]])) console.log(`--- ${name}'s console ---\n${peer.logs.slice(-40).join('\n')}`);
    throw error;
  }
}

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The election's tally as the page's model computes it. @param {import('playwright-core').Page} page */
const tallyOf = (page) =>
  page.evaluate(() => {
    const model = window.ednet.model;
    const election = model?.elections().first();
    return model && election ? model.tally(election.oid) : null;
  });

/** The conflicts as the page's model reports them. @param {import('playwright-core').Page} page */
const conflictsOf = (page) => page.evaluate(() => JSON.stringify(window.ednet.model?.conflicts ?? null));

/** @param {import('playwright-core').Page} page */
const peerCount = (page) => page.evaluate(() => window.ednet.session?.status.peers.length ?? -1);

describe('two browsers in one room', () => {
  it('join through the shared link and show the same results', () => explained(async () => {
    const { page: a } = alice;
    const { page: b } = bob;
    await a.goto(server.url);
    await a.getByLabel(/Room name/).fill('Club vote');
    await a.getByRole('button', { name: 'Create room' }).click();
    await waitUntil(a, () => window.ednet?.session != null);

    await a.getByRole('tab', { name: 'Share' }).click();
    const link = await a.locator('ednet-share-panel input#link').inputValue();
    assert.equal(link, a.url());
    await screenshot(a, 'share-desktop');

    await b.goto(link);
    await waitUntil(b, (roomId) => window.ednet?.session?.room.roomId === roomId, new URL(link).hash.split('/')[2]?.split('?')[0]);
    await b.getByRole('tab', { name: 'Share' }).click();
    await screenshot(b, 'share-phone');
    await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);
    await waitUntil(b, () => window.ednet.session?.status.peers.length === 1);

    // Alice sets the election up through the views.
    await a.getByRole('tab', { name: 'Elections' }).click();
    await a.locator('#new-title').fill(ELECTION);
    await a.getByRole('button', { name: 'Create election' }).click();
    for (const candidate of CANDIDATES) {
      await a.locator('#candidate-name').fill(candidate.name);
      await a.locator('#candidate-party').fill(candidate.party);
      await a.getByRole('button', { name: 'Add candidate' }).click();
      await a.getByText(candidate.name, { exact: true }).first().waitFor();
    }
    for (const voter of VOTERS) {
      const form = a.locator('ednet-voter-roll details');
      if ((await form.getAttribute('open')) === null) await form.locator('summary').click();
      await a.locator('#voter-name').fill(voter.name);
      await a.locator('#voter-number').fill(voter.number);
      await a.getByRole('button', { name: 'Register voter' }).click();
      await waitUntil(a, (number) => window.ednet.model?.voterByNumber(number) !== undefined, voter.number);
    }
    await a.getByRole('button', { name: 'Open voting' }).click();
    await screenshot(a, 'elections-desktop');

    // Bob votes once everything reached him.
    await waitUntil(b, (voters) => {
      const model = window.ednet.model;
      return model?.elections().first()?.getAttribute('status') === 'open' && model.voters().count === voters;
    }, VOTERS.length);
    await b.getByRole('tab', { name: 'Elections' }).click();
    await b.getByRole('button', { name: new RegExp(ELECTION) }).first().click();
    for (const voter of VOTERS) {
      await b.locator('#ballot-voter').fill(voter.number);
      await b.getByRole('radio', { name: new RegExp(voter.votesFor) }).check();
      await b.getByRole('button', { name: 'Cast ballot' }).click();
      await b.getByText(`Ballot cast by ${voter.name}`).waitFor();
    }

    await waitUntil(a, (count) => window.ednet.model?.tally(window.ednet.model.elections().first()?.oid ?? '').counted === count, VOTERS.length);
    const [tallyA, tallyB] = [await tallyOf(a), await tallyOf(b)];
    assert.deepEqual(tallyA, tallyB);
    assert.deepEqual(
      tallyA?.results.map((result) => [result.name, result.votes]),
      [
        ['Ada Lovelace', 2],
        ['Grace Hopper', 1],
      ],
    );
    // What each person sees, not only what the models hold.
    const resultsA = await a.locator('ednet-election-results ol').innerText();
    const resultsB = await b.locator('ednet-election-results ol').innerText();
    assert.equal(resultsA, resultsB);
    assert.match(resultsA, /Ada Lovelace[\s\S]*2 votes[\s\S]*Grace Hopper[\s\S]*1 vote/);
    await screenshot(a, 'results-desktop');
    await screenshot(b, 'results-phone');
    for (const [page, name] of /** @type {const} */ ([
      [a, 'explorer-desktop'],
      [b, 'explorer-phone'],
    ])) {
      await page.getByRole('tab', { name: 'Explorer' }).click();
      const explorer = page.locator('ednet-model-explorer');
      await explorer.getByRole('button', { name: /^Candidate/ }).click();
      await explorer.getByText('Grace Hopper').first().waitFor();
      await screenshot(page, name);
      await page.getByRole('tab', { name: 'Elections' }).click();
    }
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  }));

  it('converge after Alice edits offline, listing the concurrent edits as conflicts', () => explained(async () => {
    const { page: a } = alice;
    const { page: b } = bob;
    // context.setOffline cuts Alice's network: the signaling socket drops and the page sees
    // navigator.onLine false. It does not cut an open WebRTC data channel (peer traffic on this
    // machine never touches the emulated network), so Alice also switches "Work offline", the
    // user's own choice, which closes every peer connection.
    await aliceContext.setOffline(true);
    await a.getByRole('switch', { name: 'Work offline' }).check();
    await waitUntil(a, () => window.ednet.session?.status.online === false && window.ednet.session.status.peers.length === 0);
    await waitUntil(b, () => window.ednet.session?.status.peers.length === 0);

    await a.locator('ednet-election-editor #title').fill(`${ELECTION} (Alice)`);
    await a.getByRole('button', { name: 'Save details' }).click();
    await b.locator('ednet-election-editor #title').fill(`${ELECTION} (Bob)`);
    await b.getByRole('button', { name: 'Save details' }).click();
    await waitUntil(b, (title) => window.ednet.model?.elections().first()?.getAttribute('title') === title, `${ELECTION} (Bob)`);
    assert.equal(await peerCount(b), 0, 'Bob must not have heard from Alice while she was offline');
    await screenshot(a, 'offline-desktop');

    await aliceContext.setOffline(false);
    await a.getByRole('switch', { name: 'Work offline' }).uncheck();
    await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);
    await waitUntil(b, () => window.ednet.session?.status.peers.length === 1);
    // Converged: the same winner, the same conflicts, the same tally on both sides.
    await waitUntil(a, () => (window.ednet.model?.conflicts.length ?? 0) > 0);
    await waitUntil(b, () => (window.ednet.model?.conflicts.length ?? 0) > 0);
    await waitUntil(
      a,
      (expected) => JSON.stringify(window.ednet.model?.conflicts) === expected,
      await conflictsOf(b),
    );
    const title = (/** @type {import('playwright-core').Page} */ page) => page.evaluate(() => window.ednet.model?.elections().first()?.getAttribute('title'));
    assert.equal(await title(a), await title(b));
    assert.deepEqual(await tallyOf(a), await tallyOf(b));
    assert.equal((await tallyOf(a))?.counted, VOTERS.length);

    for (const [page, name] of /** @type {const} */ ([
      [a, 'conflicts-desktop'],
      [b, 'conflicts-phone'],
    ])) {
      await page.getByRole('tab', { name: /Conflicts/ }).click();
      const panel = page.locator('ednet-conflicts-panel');
      await panel.getByText(`${ELECTION} (Alice)`).first().waitFor();
      await panel.getByText(`${ELECTION} (Bob)`).first().waitFor();
      await screenshot(page, name);
    }
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  }));
});
