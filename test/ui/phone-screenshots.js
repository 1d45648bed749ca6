// Every main view of the real app on a 390×844 phone, for the docs, each checked with axe in the
// light and the dark colour scheme (the script fails on any violation). Alice creates a room on
// her phone (asked her name, then the invitation), Bruno joins on his; Alice runs an election.
// Also writes the install dialog's screenshots (public/screenshots).
//   node test/ui/phone-screenshots.js [output directory, default docs/screenshots]
// Builds the app into a temporary directory and serves it on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerFirstRun, launchBrowser, startServer, viewports, waitUntil } from '../e2e/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'screenshots'));
const installShots = join(root, 'public', 'screenshots');
const axeSource = join(root, 'node_modules', 'axe-core', 'axe.min.js');
// axe is added as a script tag, which the app's CSP would refuse.
const phone = { viewport: viewports.phone, isMobile: true, hasTouch: true, deviceScaleFactor: 1, bypassCSP: true };

/** @type {string[]} */
const violations = [];

/**
 * Photographs the page (whole length) and checks it with axe, light and dark.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options]
 */
async function shoot(page, name, { fullPage = true } = {}) {
  // On a touch screen every edit offers "Undo" for a few seconds; the views are shown without it
  // (phone-undo shows it), once the offers of the script's own edits have gone.
  if (name !== 'phone-undo') await page.locator('ednet-undo-toast .label').waitFor({ state: 'detached', timeout: 30_000 });
  for (const scheme of /** @type {const} */ (['light', 'dark'])) {
    await page.emulateMedia({ colorScheme: scheme });
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axeSource });
    const found = await page.evaluate(async () => {
      const axe = /** @type {any} */ (window).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((/** @type {any} */ v) => `${v.id}: ${v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).join(', ')}`);
    });
    for (const violation of found) violations.push(`${name} (${scheme}): ${violation}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: join(out, `${name}.png`), fullPage });
}

const build = await mkdtemp(join(tmpdir(), 'ednet-phone-shots-build-'));
try {
  execFileSync('npx', ['vite', 'build', '--outDir', build, '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'inherit' });
  const server = await startServer(0, build);
  const browser = await launchBrowser();
  try {
    await mkdir(out, { recursive: true });
    await mkdir(installShots, { recursive: true });
    const aliceDevice = await browser.newContext(phone);
    const alice = await aliceDevice.newPage();
    await alice.goto(server.url);
    await alice.getByRole('button', { name: 'Create room' }).waitFor();
    await shoot(alice, 'phone-landing');
    await alice.getByLabel(/Room name/).fill('Student council');
    await alice.getByRole('button', { name: 'Create room' }).click();
    const asked = alice.getByRole('dialog', { name: 'What should others call you?' });
    await asked.waitFor();
    await shoot(alice, 'phone-name-question', { fullPage: false });
    await asked.getByLabel('Your display name').fill('Alice');
    await asked.getByRole('button', { name: 'Save name' }).click();
    const invite = alice.getByRole('dialog', { name: /^Invite people/ });
    await invite.waitFor();
    await shoot(alice, 'phone-invite', { fullPage: false });
    await invite.getByRole('button', { name: 'Done' }).click();

    const bruno = await (await browser.newContext(phone)).newPage();
    await bruno.goto(alice.url());
    await answerFirstRun(bruno, { name: 'Bruno', created: false });
    await waitUntil(alice, () => /** @type {any} */ (window).ednet.session.status.peers.length > 0);

    // A room with some history: elections, candidates, voters.
    await alice.evaluate(() => {
      const { model } = /** @type {any} */ (window).ednet;
      for (const title of ['Treasurer', 'Secretary', 'Events officer']) model.createElection({ title });
      const election = model.createElection({ title: 'President', description: 'One seat, first past the post.' }).oid;
      model.addCandidate(election, { name: 'Amara Okafor', party: 'Green Campus' });
      model.addCandidate(election, { name: 'Chen Wei' });
    });
    await waitUntil(bruno, () => /** @type {any} */ (window).ednet.model.elections().count === 4);
    await bruno.evaluate(() => {
      const { model } = /** @type {any} */ (window).ednet;
      const president = model.elections().find((/** @type {any} */ e) => e.getAttribute('title') === 'President').oid;
      model.registerForElection(model.registerVoter({ name: 'Bruno Lima', voterNumber: 'V-102' }).oid, president);
    });
    await waitUntil(alice, () => /** @type {any} */ (window).ednet.model.voters().count === 1);
    await alice.evaluate(() => window.scrollTo(0, 0));
    await shoot(alice, 'phone-elections-list');
    await alice.getByRole('button', { name: /President/ }).click();
    await alice.getByRole('button', { name: '← All elections' }).waitFor();
    await shoot(alice, 'phone-election');
    await alice.getByRole('button', { name: 'Remove Chen Wei' }).click();
    await alice.locator('ednet-undo-toast').getByText('Deleted candidate “Chen Wei”').waitFor();
    await shoot(alice, 'phone-undo', { fullPage: false });
    await alice.locator('ednet-undo-toast').getByRole('button', { name: 'Undo' }).click();
    await bruno.getByRole('button', { name: /President/ }).click();
    await shoot(bruno, 'phone-voter-election');

    await alice.evaluate(() => window.scrollTo(0, 0));
    await alice.locator('ednet-status-bar').getByRole('button', { name: 'Details' }).click();
    await shoot(alice, 'phone-status-details');
    await alice.keyboard.press('Escape');
    for (const [tab, name] of [
      ['Conflicts', 'phone-conflicts'],
      ['Explorer', 'phone-explorer'],
      ['Audit', 'phone-audit'],
      ['Room', 'phone-room'],
    ]) {
      await alice.getByRole('tab', { name: tab }).click();
      await alice.evaluate(() => window.scrollTo(0, 0));
      await shoot(alice, name);
    }

    // The install dialog's pictures: the room on a phone, and on a desktop.
    await alice.getByRole('tab', { name: 'Elections' }).click();
    await alice.screenshot({ path: join(installShots, 'room-phone.png') });
    const desktop = await (await browser.newContext({ viewport: viewports.desktop, deviceScaleFactor: 1 })).newPage();
    await desktop.goto(alice.url());
    await answerFirstRun(desktop, { name: 'Alice (laptop)', created: false });
    await desktop.getByRole('button', { name: /President/ }).click();
    await desktop.screenshot({ path: join(installShots, 'room-desktop.png') });

    // A long list: 400 elections, of which the DOM holds the rows in view; the search finds one far down.
    await alice.evaluate(() => {
      const { model } = /** @type {any} */ (window).ednet;
      for (let n = 1; n <= 400; n++) model.createElection({ title: `Election ${n}` });
    });
    await alice.evaluate(() => window.scrollTo(0, 0));
    await alice.getByLabel('Find an election').fill('Election 32');
    await alice.getByRole('button', { name: /Election 320/ }).waitFor();
    await shoot(alice, 'phone-long-list', { fullPage: false });
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(build, { recursive: true, force: true });
}
console.log(`screenshots in ${out}`);
if (violations.length) {
  console.error(`axe found ${violations.length} violations:\n${violations.join('\n')}`);
  process.exitCode = 1;
}
