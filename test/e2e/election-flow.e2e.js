// Three phones in one room, in the system Chromium against the real app server: Olive organises a
// sealed election, Vic and Wes register on their own phones. The Elections tab's badge tells each
// what waits for them (voters to approve, voting opened, results in) and clears once done; closing
// asks first and says how many ballots will count; the results show on every phone after the close.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { answerFirstRun, launchBrowser, openPage, screenshot, startServer, viewports, waitUntil } from './harness.js';

const ELECTION = 'Treasurer';
const CANDIDATES = ['Ada Lovelace', 'Grace Hopper'];
const VOTERS = [
  { name: 'Vic', number: 'V-1', votesFor: 'Grace Hopper' },
  { name: 'Wes', number: 'V-2', votesFor: 'Grace Hopper' },
];

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Array<Awaited<ReturnType<typeof openPage>>>} */
const phones = [];

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  for (let i = 0; i < 3; i++) phones.push(await openPage(await browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true })));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The number on the Elections tab's badge, 0 if there is none. @param {import('playwright-core').Page} page */
const badge = async (page) => {
  const count = page.locator('#tab-elections .count');
  return (await count.count()) ? Number(await count.innerText()) : 0;
};

/** Waits until the Elections tab's badge shows `expected` (0: no badge). @param {import('playwright-core').Page} page @param {number} expected */
async function badgeIs(page, expected) {
  const count = page.locator('#tab-elections .count');
  if (expected === 0) await count.waitFor({ state: 'detached', timeout: 90_000 });
  else await page.locator('#tab-elections .count', { hasText: new RegExp(`^${expected}$`) }).waitFor({ timeout: 90_000 });
}

/** What the Elections tab's badge stands for, in words (its title). @param {import('playwright-core').Page} page */
const badgeTitle = (page) => page.locator('#tab-elections .count').getAttribute('title');

/**
 * Every record of every IndexedDB database of the page, as text (an entity of a chunk record on its
 * own): how many name a ballot (its oid), and those of them that also name a candidate's oid (a
 * choice, readable).
 * @param {import('playwright-core').Page} page
 */
const storedChoices = (page) =>
  page.evaluate(async () => {
    const model = window.ednet.model;
    if (!model) throw new Error('no model on the page');
    const ballots = [...model.entities('Ballot')].map((b) => b.oid);
    const candidates = [...model.entities('Candidate')].map((c) => c.oid);
    const withChoice = [];
    let named = 0;
    for (const { name } of await indexedDB.databases()) {
      if (!name) continue;
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of db.objectStoreNames) {
        const records = await new Promise((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        for (const record of records) {
          // A chunk record (storage schema 5) holds many entities: each is judged on its own, by
          // its slice of the chunk's text and its oid (kept beside the text, not in it).
          /** @type {Array<{ oid?: string, text: string }>} */
          const units = [];
          if (record && typeof record.data === 'string' && Array.isArray(record.lengths) && Array.isArray(record.oids)) {
            let at = 1;
            record.lengths.forEach((/** @type {number} */ length, /** @type {number} */ i) => {
              units.push({ oid: record.oids[i], text: record.data.slice(at, at + length) });
              at += length + 1;
            });
            for (const loose of record.loose ?? []) units.push({ oid: loose.oid, text: JSON.stringify(loose.entity) ?? '' });
          } else units.push({ text: JSON.stringify(record) ?? '' });
          for (const { oid, text } of units) {
            if (!ballots.some((ballot) => ballot === oid || text.includes(ballot))) continue;
            named++;
            if (candidates.some((candidate) => text.includes(candidate))) withChoice.push(`${name}/${store}`);
          }
        }
      }
      db.close();
    }
    return { ballots: named, withChoice };
  });

/**
 * On a phone an election opens on its own view: opens it from the list if the list is showing.
 * @param {import('playwright-core').Page} page
 */
async function openElectionOnPhone(page) {
  const entry = page.getByRole('button', { name: new RegExp(ELECTION) }).first();
  if (await entry.isVisible()) await entry.click();
}

describe('an election on three phones', () => {
  it('guides organiser and voters: badges, sealed voting, a confirmed close, results on every phone', async () => {
    const [olive, vic, wes] = phones.map((phone) => phone.page);
    try {
      await olive.goto(server.url);
      await olive.getByLabel(/Room name/).fill('Club');
      await olive.getByRole('button', { name: 'Create room' }).click();
      await waitUntil(olive, () => window.ednet?.session != null);
      await answerFirstRun(olive, { name: 'Olive' });
      await olive.getByRole('tab', { name: 'Room' }).click();
      const link = await olive.locator('ednet-room-page ednet-share-panel input#link').inputValue();
      for (const [page, name] of /** @type {const} */ ([[vic, 'Vic'], [wes, 'Wes']])) {
        await page.goto(link);
        await waitUntil(page, () => window.ednet?.session != null);
        await answerFirstRun(page, { name, created: false });
      }
      for (const page of [olive, vic, wes]) await waitUntil(page, () => window.ednet.session?.status.peers.length === 2);

      // Olive: a sealed election (the default) with two candidates.
      await olive.getByRole('tab', { name: 'Elections' }).click();
      await olive.locator('#new-title').fill(ELECTION);
      assert.equal(await olive.getByRole('radio', { name: /Sealed until voting closes/ }).isChecked(), true, 'the Sealed radio is checked');
      await olive.getByRole('button', { name: 'Create election' }).click();
      for (const name of CANDIDATES) {
        await olive.locator('#candidate-name').fill(name);
        await olive.getByRole('button', { name: 'Add candidate' }).click();
        await olive.getByText(name, { exact: true }).first().waitFor();
      }
      await olive.getByText('Ballots are sealed').first().waitFor();
      // A draft shows only what a draft has: no ballot to cast, no results.
      assert.equal(await olive.locator('ednet-ballot-form').count(), 0);
      assert.equal(await olive.locator('ednet-election-results').count(), 0);

      // Vic and Wes register on their own phones and wait.
      for (const [page, voter] of /** @type {const} */ ([
        [vic, VOTERS[0]],
        [wes, VOTERS[1]],
      ])) {
        await waitUntil(page, (title) => window.ednet.model?.elections().first()?.getAttribute('title') === title, ELECTION);
        await page.getByRole('tab', { name: 'Elections' }).click();
        await openElectionOnPhone(page);
        await page.locator('#self-name').fill(voter.name);
        await page.locator('#self-number').fill(voter.number);
        await page.getByRole('button', { name: 'Register and ask to vote' }).click();
        await page.getByText('Waiting for the organiser to approve you.').waitFor();
        assert.equal(await badge(page), 0);
        assert.equal(await page.locator('ednet-ballot-form').count(), 0);
      }
      await screenshot(vic, 'flow-voter-waiting-phone');

      // Olive's badge counts the voters waiting; approving them clears it.
      await badgeIs(olive, 2);
      // The roll names people; device ids wait under each voter's Details.
      const heads = await olive.locator('ednet-voter-roll li.voter .head').allInnerTexts();
      assert.deepEqual(heads.map((head) => head.split(/\s/)[0]).sort(), ['Vic', 'Wes']);
      for (const head of heads) assert.doesNotMatch(head, /device|[A-Za-z0-9_-]{20}/);
      await screenshot(olive, 'flow-organiser-waiting-phone');
      // Where voting opens she reads that two voters wait; "Show voters" takes her to the roll.
      await olive.locator('ednet-election-editor p.waiting').getByText('2 voters waiting for approval.').waitFor();
      await olive.getByRole('button', { name: 'Show voters' }).click();
      await waitUntil(olive, () => {
        /** @type {Element | null} */
        let focused = document.activeElement;
        while (focused?.shadowRoot?.activeElement) focused = focused.shadowRoot.activeElement;
        return focused?.id === 'voters-heading';
      });
      // Wes looks at the Room tab meanwhile: his badges must reach him there.
      await wes.getByRole('tab', { name: 'Room' }).click();
      for (const voter of VOTERS) await olive.getByRole('button', { name: `Approve ${voter.name}` }).click();
      await badgeIs(olive, 0);
      // Wes is told he was approved; Vic, looking at the election, reads it on his registration card.
      await badgeIs(wes, 1);
      assert.equal(await badgeTitle(wes), `You are approved to vote in “${ELECTION}”`);
      await vic.locator('ednet-voter-registration').getByText('You can vote once voting opens.').waitFor();
      await screenshot(vic, 'flow-voter-approved-phone');
      assert.equal(await badge(vic), 0);
      await olive.getByRole('button', { name: 'Open voting' }).click();
      await waitUntil(olive, () => {
        const model = window.ednet.model;
        const election = model?.elections().first();
        return model != null && election !== undefined && model.statusOf(election.oid) === 'open';
      });

      // Voting opened: each voter's badge shows it until they vote.
      for (const [page, voter] of /** @type {const} */ ([
        [vic, VOTERS[0]],
        [wes, VOTERS[1]],
      ])) {
        await badgeIs(page, 1);
        await page.locator('#tab-elections .count[title^="Voting is open"]').waitFor({ timeout: 90_000 });
        if (page === vic) await screenshot(vic, 'flow-voter-voting-open-phone');
        await page.getByRole('tab', { name: 'Elections' }).click();
        await openElectionOnPhone(page);
        await page.getByRole('radio', { name: new RegExp(voter.votesFor) }).check();
        await page.getByRole('button', { name: 'Cast ballot' }).click();
        await page.getByText('Your ballot is in, sealed. Results at the close.').waitFor();
        await badgeIs(page, 0);
      }
      await screenshot(vic, 'flow-voter-ballot-in-phone');
      await wes.getByRole('tab', { name: 'Room' }).click();

      // Olive closes once both ballots reached her: the confirmation says how many will count.
      await waitUntil(olive, () => {
        const model = window.ednet.model;
        const election = model?.elections().first();
        return model != null && election !== undefined && model.ballots(election.oid).count === 2;
      });
      await olive.getByText('2 ballots cast so far. Choices are sealed until voting closes.').waitFor();
      // Before the close no phone stores a choice: no stored record that names a ballot names a candidate.
      for (const page of [olive, vic, wes]) {
        await waitUntil(page, () => window.ednet.model?.entities('Ballot').count === 2);
        // A ballot that just arrived may still wait for its save: read until storage holds both.
        let stored = await storedChoices(page);
        for (const deadline = Date.now() + 30_000; stored.ballots < 2 && Date.now() < deadline; stored = await storedChoices(page))
          await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(stored, { ballots: 2, withChoice: [] });
      }
      // The organiser's Explorer holds both ballots, with no choice to read, and offers no edit of them.
      await olive.getByRole('tab', { name: 'Explorer' }).click();
      await olive.locator('ednet-model-explorer nav').getByRole('button', { name: /^Ballot/ }).click();
      const ballotRows = olive.locator('ednet-model-explorer tbody tr');
      await ballotRows.nth(1).waitFor();
      for (const row of await ballotRows.allInnerTexts()) {
        assert.doesNotMatch(row, new RegExp(CANDIDATES.join('|')));
        assert.match(row, /Only the voter who cast it, “(Vic|Wes)”, can change this ballot\./);
      }
      await screenshot(olive, 'flow-explorer-sealed-phone');
      await olive.getByRole('tab', { name: 'Elections' }).click();
      await openElectionOnPhone(olive);
      await olive.getByRole('button', { name: 'Close voting…' }).click();
      await olive.getByText(/Close voting\? 2 ballots will count/).waitFor();
      await screenshot(olive, 'flow-close-confirmation-phone');
      await olive.locator('ednet-election-editor .confirm').getByRole('button', { name: 'Close voting' }).click();

      // Results on every phone, opened with the published key; Wes's badge says they are in.
      await badgeIs(wes, 1);
      await wes.getByRole('tab', { name: 'Elections' }).click();
      await openElectionOnPhone(wes);
      await badgeIs(wes, 0);
      const results = [];
      for (const page of [olive, vic, wes]) {
        await page.locator('ednet-election-results ol.results').getByText('2 votes').waitFor();
        results.push(await page.locator('ednet-election-results ol.results').innerText());
        await badgeIs(page, 0);
      }
      assert.equal(new Set(results).size, 1);
      assert.match(results[0] ?? '', /Grace Hopper[\s\S]*2 votes[\s\S]*Ada Lovelace[\s\S]*0 votes/);
      // Closed: the voter's card says how it voted; the organiser, who had no vote, has none.
      await vic.locator('ednet-ballot-form').getByText(/^You voted/).waitFor();
      assert.equal(await olive.locator('ednet-ballot-form').count(), 0);
      await screenshot(vic, 'flow-results-phone');
      await olive.setViewportSize(viewports.desktop);
      await screenshot(olive, 'flow-results-desktop');
      await olive.setViewportSize(viewports.phone);
      // Vic's Explorer: a cast ballot stays, and says so in words; the organiser's election is hers to change.
      await vic.getByRole('tab', { name: 'Explorer' }).click();
      await vic.locator('ednet-model-explorer nav').getByRole('button', { name: /^Ballot/ }).click();
      await vic.locator('ednet-model-explorer tbody').getByText(`A ballot cast in the election “${ELECTION}” stays as it was cast.`).waitFor();
      await vic.locator('ednet-model-explorer nav').getByRole('button', { name: /^Election/ }).click();
      await vic.locator('ednet-model-explorer tbody').getByText(`Only the organiser, “Olive”, can change the election “${ELECTION}”.`).waitFor();
      await screenshot(vic, 'flow-explorer-closed-phone');
      await olive.getByRole('tab', { name: 'Audit' }).click();
      await olive.getByText(/Closed voting/).first().waitFor();
      // The audit reads the sealed ballots with the published key, as the results do: none is left out.
      await olive.locator('ednet-audit-view').getByText('Every ballot cast so far counts.').waitFor();
      await screenshot(olive, 'flow-audit-phone');
      for (const phone of phones) assert.deepEqual(phone.problems, []);
    } catch (error) {
      for (const [i, phone] of phones.entries()) console.log(`--- phone ${i}'s console ---\n${phone.logs.slice(-30).join('\n')}`);
      throw error;
    }
  });
});
