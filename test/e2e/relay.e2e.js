// Two devices that can reach each other only through a TURN relay: the app server offers a coturn
// on 127.0.0.1 (started here) at /ice-servers with `iceTransportPolicy: relay`, so the browsers
// gather relay candidates only and every byte between them goes through it. With a secret the
// relay does not know, the devices never connect and both say why.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { iceConfigFromEnv } from '../../signaling/ice-servers.js';
import { answerFirstRun, launchBrowser, openPage, startServer, waitUntil } from './harness.js';
import { startTurnServer } from './turn-server.js';

const SECRET = 'relay-test-secret-0123456789';

/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof startTurnServer>>} */
let turn;

before(async () => {
  browser = await launchBrowser();
  turn = await startTurnServer({ secret: SECRET });
});

after(async () => {
  await browser?.close();
  await turn?.close();
});

/** The app server, offering the test relay with `secret`, relay only. @param {string} secret */
function serverWithRelay(secret) {
  const ice = iceConfigFromEnv({
    TURN_URLS: `${turn.url}?transport=udp ${turn.url}?transport=tcp`,
    TURN_SECRET: secret,
    ICE_TRANSPORT_POLICY: 'relay',
  });
  return startServer(0, undefined, { ice });
}

/**
 * Alice creates a room and Bob opens its link, each in a browser context of their own (no shared
 * storage, so no BroadcastChannel between them: WebRTC or nothing).
 * @param {string} url
 */
async function twoDevices(url) {
  const alice = await openPage(await browser.newContext());
  const bob = await openPage(await browser.newContext());
  await alice.page.goto(url);
  await alice.page.getByLabel(/Room name/).fill('Relay room');
  await alice.page.getByRole('button', { name: 'Create room' }).click();
  await waitUntil(alice.page, () => window.ednet?.session != null);
  await answerFirstRun(alice.page, { name: 'Alice' });
  await bob.page.goto(alice.page.url());
  await waitUntil(bob.page, () => window.ednet?.session != null);
  await answerFirstRun(bob.page, { name: 'Bob', created: false });
  return { alice, bob };
}

/**
 * @param {Array<Awaited<ReturnType<typeof openPage>>>} pages
 * @param {() => Promise<void>} scenario
 */
async function explained(pages, scenario) {
  try {
    await scenario();
  } catch (error) {
    for (const [index, peer] of pages.entries()) console.log(`--- page ${index}'s console ---\n${peer.logs.slice(-30).join('\n')}`);
    console.log(`--- turnserver ---\n${turn.output().slice(-3000)}`);
    throw error;
  } finally {
    for (const peer of pages) await peer.page.context().close();
  }
}

describe('devices connected only through a TURN relay', () => {
  it('connect through the relay the server offers, and sync the room', async () => {
    const server = await serverWithRelay(SECRET);
    const { alice, bob } = await twoDevices(server.url);
    try {
      await explained([alice, bob], async () => {
        const config = await bob.page.evaluate(() => fetch('/ice-servers').then((response) => response.json()));
        assert.equal(config.iceTransportPolicy, 'relay');
        await waitUntil(alice.page, () => window.ednet.session?.status.peers.length === 1);
        await waitUntil(bob.page, () => window.ednet.session?.status.peers.length === 1);

        await alice.page.getByRole('tab', { name: 'Elections' }).click();
        await alice.page.locator('#new-title').fill('Through the relay');
        await alice.page.getByRole('button', { name: 'Create election' }).click();
        await waitUntil(bob.page, () => window.ednet.model?.elections().first()?.getAttribute('title') === 'Through the relay');
        // The relay allocated addresses with the server's credentials and let the devices through.
        assert.match(turn.output(), /ALLOCATE processed, success/);
        assert.match(turn.output(), /CREATE_PERMISSION processed, success/);
        assert.equal(await bob.page.evaluate(() => window.ednet.session?.status.connectionProblem), null);
        assert.deepEqual([...alice.problems, ...bob.problems], []);
      });
    } finally {
      await server.close();
    }
  });

  it('with a secret the relay does not know, they do not connect and both say the relay refused', async () => {
    const server = await serverWithRelay('not-the-secret-of-the-relay');
    const { alice, bob } = await twoDevices(server.url);
    try {
      await explained([alice, bob], async () => {
        for (const { page } of [alice, bob]) {
          await waitUntil(page, () => /relay refused/.test(window.ednet.session?.status.connectionProblem ?? ''));
          await page.getByText(/Could not reach a device of this room: relay refused/).waitFor();
          assert.equal(await page.evaluate(() => window.ednet.session?.status.peers.length), 0);
        }
      });
    } finally {
      await server.close();
    }
  });
});
