// Shared pieces of the end-to-end tests: the real app server on a free port serving the built
// app (`npm run test:e2e` builds it first), the system Chromium, and screenshots of what the
// tests saw (test-results/screenshots, not committed).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { createAppServer } from '../../signaling/serve.js';
import { chromiumArgs, chromiumPath } from '../chromium.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist');
const screenshots = join(root, 'test-results', 'screenshots');

/** Phone and desktop viewports the screenshots are taken at. */
export const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

/**
 * Starts the app server (static app, /healthz, /signaling) on 127.0.0.1, serving `root` (default
 * the build in dist/). `port` 0 picks a free one.
 * @param {number} [port]
 * @param {string} [root]
 * @param {Omit<import('../../signaling/serve.js').AppServerOptions, 'port' | 'host' | 'root'>} [options] e.g. the ICE servers it offers
 */
export async function startServer(port = 0, root = dist, options = {}) {
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} holds no build: run \`npm run build\` (npm run test:e2e does) first.`);
  return createAppServer({ ...options, port, host: '127.0.0.1', root });
}

/**
 * The system Chromium and an app server shared by a whole test file: started before its first
 * test, closed after its last. Read `browser` and `server` only inside tests and hooks.
 */
export function browserAndServerForFile() {
  /** @type {{ browser: import('playwright-core').Browser, server: Awaited<ReturnType<typeof startServer>> }} */
  const shared = /** @type {any} */ ({});
  before(async () => {
    shared.browser = await launchBrowser();
    shared.server = await startServer();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.close();
  });
  return shared;
}

/** The system Chromium with the project's flags. */
export async function launchBrowser() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  return chromium.launch({ executablePath, args: chromiumArgs });
}

/**
 * A browser with a real (temporary) profile: Chromium does not offer to install apps in the
 * incognito-like contexts of `browser.newContext()`. `close()` also deletes the profile.
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function launchProfile(options = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const profile = mkdtempSync(join(tmpdir(), 'ednet-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, args: chromiumArgs, ...options });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A page with what went wrong in it: uncaught errors and CSP violations (`problems`, which the
 * tests expect empty) and its console output (`logs`, printed when a test fails).
 * @param {import('playwright-core').BrowserContext} context
 */
export async function openPage(context) {
  const page = await context.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  /** @type {string[]} */
  const logs = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/.test(message.text())) problems.push(`CSP: ${message.text()}`);
    if (message.type() !== 'debug') logs.push(`${new Date().toISOString().slice(11, 23)} ${message.type()} ${message.text()}`);
  });
  return { page, problems, logs };
}

/**
 * Saves a full-page screenshot as test-results/screenshots/<name>.png.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  // Clicks scroll the page; a sticky bar would then be drawn mid-page in a full-page capture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/**
 * Waits until `predicate` holds in the page (sync between browsers takes as long as it takes;
 * the generous limit only stops a hung run).
 * @param {import('playwright-core').Page} page
 * @param {string | ((arg: any) => unknown)} predicate
 * @param {unknown} [arg]
 */
export async function waitUntil(page, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: 90_000, polling: 100 });
  } catch (error) {
    // Say where the page was: the room's status is most of what explains a sync that never came.
    const status = await page.evaluate(() => JSON.stringify(window.ednet?.session?.status ?? null)).catch(() => 'unavailable');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nwaiting for: ${String(predicate)}\npage status: ${status}`, { cause: error });
  }
}

/**
 * Gets a new room's first-run dialogs out of the way: the one-time question for a display name
 * (answered with `name`, else skipped) and, after creating a room, the invitation sheet.
 * @param {import('playwright-core').Page} page
 * @param {{ name?: string, created?: boolean }} [options]
 */
export async function answerFirstRun(page, { name, created = true } = {}) {
  const asked = page.getByRole('dialog', { name: 'What should others call you?' });
  const invite = page.getByRole('dialog', { name: /^Invite people/ });
  await (created ? asked.or(invite) : asked).first().waitFor();
  if (await asked.isVisible()) {
    if (name) {
      await asked.getByLabel('Your display name').fill(name);
      await asked.getByRole('button', { name: 'Save name' }).click();
    } else await asked.getByRole('button', { name: 'Skip' }).click();
    await asked.waitFor({ state: 'hidden' });
  }
  if (!created) return;
  await invite.getByRole('button', { name: 'Done' }).click();
  await invite.waitFor({ state: 'hidden' });
}
