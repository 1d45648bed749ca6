// Undo on a phone, which has no Ctrl+Z: every edit, not only a deletion, offers "Undo" on screen
// for a few seconds; on a desktop, ordinary edits are taken back with Ctrl+Z and only deletions
// show the offer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerFirstRun, browserAndServerForFile, openPage, viewports, waitUntil } from './harness.js';

const app = browserAndServerForFile();

/**
 * Opens a new room named `name` and adds an election through the form.
 * @param {import('playwright-core').Page} page
 */
async function roomWithElection(page) {
  await page.goto(app.server.url);
  await page.getByLabel(/Room name/).fill('Undo club');
  await page.getByRole('button', { name: 'Create room' }).click();
  await answerFirstRun(page, { name: 'Ana' });
  await page.getByLabel('Title *').fill('Treasurer');
  await page.getByRole('button', { name: 'Create election' }).click();
  await waitUntil(page, () => window.ednet.model?.elections().count === 1);
}

const titleOf = () => String(window.ednet.model?.elections().first()?.getAttribute('title'));

describe('undo of ordinary edits', () => {
  it('on a phone, a changed title offers Undo on screen, and Undo takes it back', async () => {
    const context = await app.browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true });
    const { page, problems } = await openPage(context);
    await roomWithElection(page);
    const toast = page.locator('ednet-undo-toast');
    await toast.getByText('Added election “Treasurer”').waitFor();
    const editor = page.locator('ednet-election-editor');
    await editor.getByLabel('Title *').fill('Treasurer 2027');
    await editor.getByRole('button', { name: 'Save details' }).tap();
    await toast.getByText('Changed title of election “Treasurer 2027”').waitFor();
    assert.equal(await page.evaluate(titleOf), 'Treasurer 2027');
    await toast.getByRole('button', { name: 'Undo' }).tap();
    await toast.getByText('Undone: changed title of election “Treasurer 2027”.').waitFor();
    await waitUntil(page, () => window.ednet.model?.elections().first()?.getAttribute('title') === 'Treasurer');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('on a desktop, the same edit is taken back with Ctrl+Z, without an offer on screen', async () => {
    const context = await app.browser.newContext({ viewport: viewports.desktop });
    const { page, problems } = await openPage(context);
    await roomWithElection(page);
    const editor = page.locator('ednet-election-editor');
    await editor.getByLabel('Title *').fill('Treasurer 2027');
    await editor.getByRole('button', { name: 'Save details' }).click();
    await waitUntil(page, () => window.ednet.model?.elections().first()?.getAttribute('title') === 'Treasurer 2027');
    assert.equal(await page.locator('ednet-undo-toast').getByRole('button', { name: 'Undo' }).count(), 0);
    await page.locator('body').press('Control+z');
    await waitUntil(page, () => window.ednet.model?.elections().first()?.getAttribute('title') === 'Treasurer');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
