// The signaling server restarts while a room is in use. Alice and Bob are connected; the server
// stops; Bob reloads (his data channel to Alice closes, and without the server he cannot find her
// again), and both edit while apart. When the server is back on the same address, both must find
// each other again, hold the same state (equal digests), and say so in words: no "syncing" or
// "waiting" left behind. Nothing here cuts the data channel except Bob's reload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { answerFirstRun, launchBrowser, openPage, startServer, waitUntil } from './harness.js';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
let server;
/** The server the test started, restarted on the same port. @returns {NonNullable<typeof server>} */
const running = () => {
  if (!server) throw new Error('the server is not running');
  return server;
};
/** @type {Awaited<ReturnType<typeof openPage>>} */
let alice;
/** @type {Awaited<ReturnType<typeof openPage>>} */
let bob;

before(async () => {
  browser = await launchBrowser();
  server = await startServer();
  alice = await openPage(await browser.newContext());
  bob = await openPage(await browser.newContext());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The room's state as the page holds it: election titles and the digest. @param {import('playwright-core').Page} page */
const stateOf = (page) =>
  page.evaluate(() => {
    const model = window.ednet.model;
    if (!model) throw new Error('no room open');
    return { titles: model.elections().map((election) => election.getAttribute('title')).sort(), digest: model.digest().root };
  });

/** The status bar's two lines (reach · saved), as a person reads them. @param {import('playwright-core').Page} page */
const statusWords = (page) => page.locator('ednet-status-bar .lines').first().innerText();

describe('a signaling server restart', () => {
  it('peers find each other again and converge, and the status says in sync only then', async () => {
    const { page: a } = alice;
    const { page: b } = bob;
    try {
      await a.goto(running().url);
      await a.getByLabel(/Room name/).fill('Restart');
      await a.getByRole('button', { name: 'Create room' }).click();
      await waitUntil(a, () => window.ednet?.session != null);
      await answerFirstRun(a, { name: 'Alice' });
      await b.goto(a.url());
      await waitUntil(b, () => window.ednet?.session != null);
      await answerFirstRun(b, { name: 'Bob', created: false });
      await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);
      await waitUntil(b, () => window.ednet.session?.status.peers.length === 1);
      // Bob's reload below, with the server down, gets the app from the service worker: only once
      // it controls his page (installed and claimed; before that a reload finds no server).
      await waitUntil(b, () => navigator.serviceWorker.controller !== null);

      const port = Number(new URL(running().url).port);
      await running().close();
      server = undefined;
      await waitUntil(a, () => window.ednet.session?.status.signaling !== 'connected');
      await b.reload();
      await waitUntil(b, () => window.ednet?.session != null && window.ednet.session.status.signaling !== 'connected');
      await waitUntil(a, () => window.ednet.session?.status.peers.length === 0);

      for (const [page, title] of /** @type {const} */ ([[a, 'Made while apart (Alice)'], [b, 'Made while apart (Bob)']])) {
        await page.evaluate((title) => void window.ednet.model?.createElection({ title }), title);
      }
      assert.notDeepEqual((await stateOf(a)).titles, (await stateOf(b)).titles);

      server = await startServer(port);
      for (const page of [a, b]) {
        await waitUntil(page, () => {
          const status = window.ednet.session?.status;
          return status?.signaling === 'connected' && status.peers.length === 1 && status.peers.every((peer) => peer.inSync);
        });
      }
      const [stateA, stateB] = [await stateOf(a), await stateOf(b)];
      assert.deepEqual(stateA.titles, ['Made while apart (Alice)', 'Made while apart (Bob)']);
      assert.deepEqual(stateB, stateA);
      for (const page of [a, b]) {
        await page.locator('ednet-status-bar .lines').first().getByText(/Everything saved and sent/).waitFor({ timeout: 90_000 });
        const words = await statusWords(page);
        assert.match(words, /Connected to (Alice|Bob)/);
        assert.doesNotMatch(words, /sync|waiting|receiving|looking/i);
      }
    } catch (error) {
      for (const [name, peer] of /** @type {const} */ ([['alice', alice], ['bob', bob]])) console.log(`--- ${name}'s console ---\n${peer.logs.slice(-40).join('\n')}`);
      throw error;
    }
    assert.deepEqual([...alice.problems, ...bob.problems], []);
  });
});
