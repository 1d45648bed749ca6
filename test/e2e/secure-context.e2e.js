// The app served on another name than localhost, as a phone on the same network opens a laptop's
// address. Over plain http that page is not a secure context: it says what to do instead of
// failing inside a crypto call. Over https with the server's self-signed certificate (trusted here
// by its public key's fingerprint, as a user accepts it once after comparing the fingerprint the
// server printed), a room opens there and syncs with a page on localhost. Chromium resolves the
// test name to 127.0.0.1, so nothing leaves the machine.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { selfSignedTls } from '../../signaling/tls-certificate.js';
import { chromiumArgs, chromiumPath } from '../chromium.js';
import { answerFirstRun, openPage, startServer, waitUntil } from './harness.js';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof startServer>>} */
let httpsServer;
/** @type {string} */
let dataDir;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ednet-tls-'));
  // What `HOST=0.0.0.0 npm start` makes on first start (the test server itself stays on 127.0.0.1).
  const tls = await selfSignedTls(dataDir);
  assert.equal(tls.source, 'created');
  server = await startServer();
  httpsServer = await startServer(0, undefined, { tls });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [...chromiumArgs, '--host-resolver-rules=MAP ednet.test 127.0.0.1', `--ignore-certificate-errors-spki-list=${tls.spkiHash}`],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  await httpsServer?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a page that is not a secure context', () => {
  it('says in words to open it over https or from localhost, and opens no room', async () => {
    const { page, problems } = await openPage(await browser.newContext());
    await page.goto(`http://ednet.test:${server.port}/`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false, 'a page over http from another host is a secure context');
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

describe('the same name over https with the self-signed certificate', () => {
  it('opens a room that syncs with a page on localhost', async () => {
    const phone = await openPage(await browser.newContext());
    const laptop = await openPage(await browser.newContext());
    try {
      assert.match(httpsServer.url, /^https:/);
      await phone.page.goto(`https://ednet.test:${httpsServer.port}/`);
      assert.equal(await phone.page.evaluate(() => window.isSecureContext), true, 'the page over https is a secure context');
      await phone.page.getByLabel(/Room name/).fill('Over https');
      await phone.page.getByRole('button', { name: 'Create room' }).click();
      await answerFirstRun(phone.page);
      await waitUntil(phone.page, () => window.ednet?.session != null);
      // Signaling runs as wss on the same port.
      await waitUntil(phone.page, () => window.ednet.session?.status.signaling === 'connected');

      const link = new URL(phone.page.url());
      link.hostname = 'localhost';
      await laptop.page.goto(link.href);
      await answerFirstRun(laptop.page, { created: false });
      for (const { page } of [phone, laptop]) await waitUntil(page, () => window.ednet.session?.status.peers.length === 1);
      await phone.page.getByRole('tab', { name: 'Elections' }).click();
      await phone.page.locator('#new-title').fill('Made on the phone');
      await phone.page.getByRole('button', { name: 'Create election' }).click();
      await waitUntil(laptop.page, () => window.ednet.model?.elections().first()?.getAttribute('title') === 'Made on the phone');
      assert.deepEqual([...phone.problems, ...laptop.problems], []);
    } catch (error) {
      for (const [name, peer] of /** @type {const} */ ([['phone', phone], ['laptop', laptop]])) console.log(`--- ${name}'s console ---\n${peer.logs.slice(-30).join('\n')}`);
      throw error;
    } finally {
      await phone.page.context().close();
      await laptop.page.context().close();
    }
  });
});
