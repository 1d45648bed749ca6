// Two browsers (two devices) in one room, in the system Chromium against the real app server
// (static app and signaling on one port). Alice (desktop) creates the room and organises the
// election; Bob (phone) joins through the shared link and registers himself; Alice approves him
// and herself; each votes from their own device; both must show the same results. Then Alice
// goes offline and edits her election while Bob, who cannot edit hers, starts his own; Alice
// comes back and both converge. (With election roles only one device writes an entity, so
// devices no longer make conflicting edits; the conflicts panel has its own tests.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { answerFirstRun, launchBrowser, openPage, screenshot, startServer, viewports, waitUntil } from './harness.js';

const ELECTION = 'Board 2026';
const CANDIDATES = [
  { name: 'Ada Lovelace', party: 'Analytical' },
  { name: 'Grace Hopper', party: 'Compilers' },
];
// Each registers on their own device and votes from it.
const ALICE = { name: 'Alice', number: 'V-1', votesFor: 'Grace Hopper' };
const BOB = { name: 'Bob', number: 'V-2', votesFor: 'Ada Lovelace' };
const VOTERS = [ALICE, BOB];

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
    await answerFirstRun(a, { name: 'Alice' });

    await a.getByRole('tab', { name: 'Room' }).click();
    const link = await a.locator('ednet-room-page ednet-share-panel input#link').inputValue();
    assert.equal(link, a.url());
    await screenshot(a, 'share-desktop');

    await b.goto(link);
    await waitUntil(b, (roomId) => window.ednet?.session?.room.roomId === roomId, new URL(link).hash.split('/')[2]?.split('?')[0]);
    await answerFirstRun(b, { name: 'Bob', created: false });
    await b.getByRole('tab', { name: 'Room' }).click();
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
    await a.getByText('You organise this election.').waitFor();

    // Each registers on their own device: Bob once the election reached him, Alice too.
    await waitUntil(b, (title) => window.ednet.model?.elections().first()?.getAttribute('title') === title, ELECTION);
    await b.getByRole('tab', { name: 'Elections' }).click();
    await b.getByRole('button', { name: new RegExp(ELECTION) }).first().click();
    await b.getByText('Only the organiser can change this election').waitFor();
    assert.equal(await b.getByRole('button', { name: 'Open voting' }).count(), 0);
    for (const [page, voter] of /** @type {const} */ ([
      [b, BOB],
      [a, ALICE],
    ])) {
      if (page === a) await a.getByText('Register to vote yourself').click();
      await page.locator('#self-name').fill(voter.name);
      await page.locator('#self-number').fill(voter.number);
      await page.getByRole('button', { name: 'Register and ask to vote' }).click();
      await page.getByText(page === a ? 'Approve yourself under “Voters”.' : 'Waiting for the organiser to approve you.').waitFor();
    }
    await screenshot(b, 'registered-phone');

    // Alice approves both registrations once Bob's reached her, and opens voting.
    await waitUntil(a, () => {
      const model = window.ednet.model;
      const election = model?.elections().first();
      return model !== null && model !== undefined && election !== undefined && model.pendingVoters(election.oid).count === 2;
    });
    for (const voter of VOTERS) await a.getByRole('button', { name: `Approve ${voter.name}` }).click();
    await a.getByRole('button', { name: 'Open voting' }).click();
    await screenshot(a, 'elections-desktop');

    // Each votes from their own device, once the approval and the opening reached it.
    for (const [page, voter] of /** @type {const} */ ([
      [b, BOB],
      [a, ALICE],
    ])) {
      await page.getByRole('button', { name: 'Cast ballot' }).waitFor();
      await page.getByRole('radio', { name: new RegExp(voter.votesFor) }).check();
      await page.getByRole('button', { name: 'Cast ballot' }).click();
      await page.getByText('Your ballot is in, sealed. Results at the close.').waitFor();
    }

    // Sealed until the close: both ballots in, no choice readable; Alice closes once both reached her.
    await waitUntil(a, (count) => window.ednet.model?.tally(window.ednet.model.elections().first()?.oid ?? '').sealed === count, VOTERS.length);
    await a.getByRole('button', { name: 'Close voting…' }).click();
    await a.locator('ednet-election-editor .confirm').getByRole('button', { name: 'Close voting' }).click();
    for (const page of [a, b]) await page.locator('ednet-election-results ol.results').getByText('1 vote').first().waitFor();
    const [tallyA, tallyB] = [await tallyOf(a), await tallyOf(b)];
    assert.deepEqual(tallyA, tallyB);
    assert.equal(tallyA?.status, 'closed');
    // What each person sees, not only what the models hold.
    const resultsA = await a.locator('ednet-election-results ol').innerText();
    const resultsB = await b.locator('ednet-election-results ol').innerText();
    assert.equal(resultsA, resultsB);
    assert.match(resultsA, /Ada Lovelace[\s\S]*1 vote[\s\S]*Grace Hopper[\s\S]*1 vote/);
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

  it('converge after Alice edits offline while Bob starts his own election; only organisers edit', () => explained(async () => {
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
    // Bob cannot change Alice's election (its controls are not his), but can organise his own.
    assert.equal(await b.getByRole('button', { name: 'Save details' }).count(), 0);
    // On a phone an election shows on its own view; the list is one step back.
    const back = b.getByRole('button', { name: '← All elections' });
    if (await back.isVisible()) await back.click();
    await b.getByText('New election').click();
    await b.locator('#new-title').fill('Bob’s poll');
    await b.getByRole('button', { name: 'Create election' }).click();
    await b.getByText('You organise this election.').waitFor();
    await b.getByRole('button', { name: 'Save details' }).waitFor();
    assert.equal(await peerCount(b), 0, 'Bob must not have heard from Alice while she was offline');
    await screenshot(a, 'offline-desktop');

    await aliceContext.setOffline(false);
    await a.getByRole('switch', { name: 'Work offline' }).uncheck();
    await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);
    await waitUntil(b, () => window.ednet.session?.status.peers.length === 1);
    // Converged: both elections, the same details and tallies on both sides; nothing refused.
    const summary = (/** @type {import('playwright-core').Page} */ page) =>
      page.evaluate(() => {
        const model = window.ednet.model;
        return JSON.stringify(
          model
            ?.elections()
            .map((election) => ({ title: election.getAttribute('title'), organiser: model.organiserOf(election.oid), tally: model.tally(election.oid) }))
            .sort((x, y) => (String(x.title) < String(y.title) ? -1 : 1)),
        );
      });
    await waitUntil(a, (expected) => window.ednet.model?.elections().count === expected, 2);
    await waitUntil(b, (title) => window.ednet.model?.elections().find((e) => e.getAttribute('title') === title) !== undefined, `${ELECTION} (Alice)`);
    assert.equal(await summary(a), await summary(b));
    // The sealed choices need the published key (the results view opens them): the model alone shows them sealed.
    assert.equal((await tallyOf(a))?.sealed, VOTERS.length);
    for (const page of [a, b]) {
      const status = await page.evaluate(() => window.ednet.session?.status.peers.map((peer) => peer.refused));
      assert.deepEqual(status, [0]);
    }
    await screenshot(a, 'converged-desktop');
    await screenshot(b, 'converged-phone');
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  }));
});
