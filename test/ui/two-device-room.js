// Shared by the scripts that photograph the real app: builds it into a temporary directory, serves
// it on 127.0.0.1, and opens one room in two browsers, Alice at desktop width and Bruno's phone at
// 360px, named and connected. The scenario runs in `body`; everything is closed afterwards.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerFirstRun, launchBrowser, startServer, waitUntil } from '../e2e/harness.js';

/**
 * @param {string} name what the temporary build directory is called after
 * @param {(pages: { alice: import('playwright-core').Page, bob: import('playwright-core').Page }) => Promise<void>} body
 */
export async function withTwoDeviceRoom(name, body) {
  const build = await mkdtemp(join(tmpdir(), `ednet-${name}-build-`));
  try {
    execFileSync('npx', ['vite', 'build', '--outDir', build, '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'inherit' });
    const server = await startServer(0, build);
    const browser = await launchBrowser();
    try {
      const alice = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
      const bob = await (await browser.newContext({ viewport: { width: 360, height: 800 } })).newPage();
      await alice.goto(server.url);
      await alice.getByLabel(/Room name/).fill('Student council');
      await alice.getByRole('button', { name: 'Create room' }).click();
      await waitUntil(alice, () => /** @type {any} */ (window).ednet?.session != null);
      await answerFirstRun(alice, { name: 'Alice' });
      await bob.goto(alice.url());
      await waitUntil(bob, () => /** @type {any} */ (window).ednet?.session != null);
      await answerFirstRun(bob, { name: 'Bruno’s phone', created: false });
      await alice.evaluate(() => /** @type {any} */ (window).ednet.session.setDisplayName('Alice'));
      await bob.evaluate(() => /** @type {any} */ (window).ednet.session.setDisplayName('Bruno’s phone'));
      await waitUntil(alice, () =>
        /** @type {any} */ (window).ednet.session.status.peers.some((/** @type {any} */ peer) => peer.displayName === 'Bruno’s phone'),
      );
      await body({ alice, bob });
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    await rm(build, { recursive: true, force: true });
  }
}
