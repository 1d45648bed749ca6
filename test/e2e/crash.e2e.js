// The honest crash test: two devices, each its own Chromium process with its own profile, in one
// room over WebRTC through the real app server. Device A makes a burst of edits; once device B
// has received part of it, A's browser PROCESS is killed (SIGKILL: what was not committed to
// IndexedDB is lost, exactly as on a real device). A restarts on the same profile and reopens the
// room. Both must converge to identical state, every edit B had received must be on both, and
// neither may say "in sync" before their states are equal. The same with the page closed in the
// middle of a burst. See docs/storage.md, "Durable before visible".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevice } from './chromium-device.js';
import { launchBrowser, openPage, startServer, waitUntil } from './harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {import('playwright-core').Browser} */
let bobBrowser;
/** @type {string[]} */
const profiles = [];

before(async () => {
  server = await startServer();
  bobBrowser = await launchBrowser();
});

after(async () => {
  await bobBrowser?.close();
  await server?.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
});

/** The model's whole state, canonical. @param {import('playwright-core').Page} page */
const snapshotOf = (page) => page.evaluate(() => JSON.stringify(window.ednet.model?.getSnapshot()));
/** Titles of the elections A made in the burst. @param {import('playwright-core').Page} page */
const burstTitles = (page) =>
  page.evaluate(() =>
    (window.ednet.model?.elections().toArray() ?? [])
      .map((election) => String(election.getAttribute('title')))
      .filter((title) => title.startsWith('Burst '))
      .sort(),
  );

/**
 * Starts a burst of `count` edits in A, one per task so each can leave the device, without
 * waiting for it to end.
 * @param {import('playwright-core').Page} page
 * @param {number} count
 */
const startBurst = (page, count) =>
  page.evaluate((n) => {
    let i = 0;
    const next = () => {
      if (i >= n) return;
      window.ednet.model?.createElection({ title: `Burst ${String(i++).padStart(4, '0')}` });
      setTimeout(next, 2);
    };
    next();
  }, count);

/**
 * Both pages hold the same state and say so: identical snapshots and every peer in sync, checked
 * at the same moment (a status saying "in sync" while states differ fails the test).
 * @param {import('playwright-core').Page} a
 * @param {import('playwright-core').Page} b
 */
async function converged(a, b) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [sa, sb] = await Promise.all([snapshotOf(a), snapshotOf(b)]);
    const [ia, ib] = await Promise.all(
      [a, b].map((page) => page.evaluate(() => {
        const peers = window.ednet.session?.status.peers ?? [];
        return peers.length > 0 && peers.every((peer) => peer.inSync);
      })),
    );
    // A status saying in sync must be true: equal versions mean equal states here.
    if (ia && ib) {
      const [sa2, sb2] = await Promise.all([snapshotOf(a), snapshotOf(b)]);
      if (sa2 === sb2) return sa2;
      if (sa === sa2 && sb === sb2) assert.fail('both say in sync, but their states differ');
    }
    if (Date.now() > deadline) assert.fail(`no convergence within 120 s (in sync: ${ia}/${ib}, equal: ${sa === sb})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Opens `url` in a fresh page of `context` and waits for the room.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 */
async function openRoom(context, url) {
  const opened = await openPage(context);
  await opened.page.goto(url);
  await waitUntil(opened.page, () => window.ednet?.session != null);
  return opened;
}

describe('a device that dies in the middle of a burst', () => {
  for (const how of /** @type {const} */ (['the browser process is killed', 'the page is closed'])) {
    it(`loses nothing a peer received and converges when ${how}`, async () => {
      const profile = mkdtempSync(join(tmpdir(), 'ednet-crash-'));
      profiles.push(profile);
      let device = await startDevice(profile);
      const bobContext = await bobBrowser.newContext();
      try {
        const { page: a } = await openPage(device.context);
        await a.goto(server.url);
        await a.getByLabel(/Room name/).fill('Crash test');
        await a.getByRole('button', { name: 'Create room' }).click();
        await waitUntil(a, () => window.ednet?.session != null);
        const link = a.url();
        const { page: b } = await openRoom(bobContext, link);
        await waitUntil(a, () => window.ednet.session?.status.peers.length === 1);
        await waitUntil(b, () => window.ednet.session?.status.peers.length === 1);

        // A burst longer than the test: A is still writing when it dies, however fast the machine.
        await startBurst(a, 100_000);
        // B has part of the burst: now A dies.
        await waitUntil(b, () => (window.ednet.model?.elections().count ?? 0) >= 40);
        let received;
        if (how === 'the browser process is killed') {
          await device.kill();
          received = await burstTitles(b);
          device = await startDevice(profile);
        } else {
          await a.close();
          received = await burstTitles(b);
        }
        assert.ok(received.length >= 40, `B holds part of the burst (${received.length})`);

        const { page: restarted } = await openRoom(device.context, link);
        const state = await converged(restarted, b);
        const after = await burstTitles(b);
        for (const title of received) assert.ok(after.includes(title), `${title}, which B had received, survived`);
        assert.deepEqual(await burstTitles(restarted), after);
        assert.ok(state.length > 0);
        // The restarted device goes on editing, and the peer gets it.
        await restarted.evaluate(() => window.ednet.model?.createElection({ title: 'After the restart' }));
        await waitUntil(b, () => window.ednet.model?.elections().find((election) => election.getAttribute('title') === 'After the restart') !== undefined);
        await converged(restarted, b);
      } finally {
        await bobContext.close();
        await device.close();
      }
    });
  }
});
