// The app served on another name than localhost over plain http (as a phone on the same network
// would open a laptop's address) is not a secure context: it says what to do instead of failing
// inside a crypto call. Chromium resolves the test name to 127.0.0.1, so nothing leaves the machine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../chromium.js';
import { openPage, startServer } from './harness.js';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;

before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: [...chromiumArgs, '--host-resolver-rules=MAP ednet.test 127.0.0.1'] });
  server = await startServer();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('a page that is not a secure context', () => {
  it('says in words to open it over https or from localhost, and opens no room', async () => {
    const { page, problems } = await openPage(await browser.newContext());
    await page.goto(`http://ednet.test:${server.port}/`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    const alert = page.getByRole('alert');
    await alert.getByText('EDNet P2P needs a secure page').waitFor();
    const text = await alert.textContent();
    assert.match(text ?? '', /plain http from ednet\.test/);
    assert.match(text ?? '', /Open it over https/);
    assert.match(text ?? '', new RegExp(`http://localhost:${server.port}`));
    assert.equal(await page.locator('ednet-app').count(), 0);
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
