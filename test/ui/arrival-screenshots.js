// The page of a room this device never held, on a 390×844 phone, for the docs: looking for the
// room's devices, then nobody online. Each is checked with axe in the light and the dark colour
// scheme (the script fails on any violation).
//   npm run build && node test/ui/arrival-screenshots.js [output directory, default docs/screenshots]
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerFirstRun, launchBrowser, startServer, viewports } from '../e2e/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, 'docs', 'screenshots'));
const axeSource = join(root, 'node_modules', 'axe-core', 'axe.min.js');

const server = await startServer();
const browser = await launchBrowser();
/** @type {string[]} */
const violations = [];
try {
  await mkdir(out, { recursive: true });
  const page = await (await browser.newContext({ viewport: viewports.phone, isMobile: true, hasTouch: true, deviceScaleFactor: 1, bypassCSP: true })).newPage();
  // A link to a room nobody has open: this device never held it.
  await page.goto(`${server.url}#/room/Ab${randomBytes(9).toString('hex')}?k=${randomBytes(32).toString('base64url')}`);
  await answerFirstRun(page, { name: 'Bruno', created: false });
  const arrival = page.locator('ednet-room-arrival');
  await arrival.getByText('Looking for the other devices of this room…').waitFor();
  /** @param {string} name */
  const shoot = async (name) => {
    for (const scheme of /** @type {const} */ (['light', 'dark'])) {
      await page.emulateMedia({ colorScheme: scheme });
      if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axeSource });
      const found = await page.evaluate(async () => {
        const result = await /** @type {any} */ (window).axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((/** @type {any} */ v) => `${v.id}: ${v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).join(', ')}`);
      });
      for (const violation of found) violations.push(`${name} (${scheme}): ${violation}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(out, `${name}.png`) });
  };
  await shoot('phone-room-looking');
  // "A while" is 20 s of nobody; the picture does not wait for it.
  await arrival.evaluate((element) => void (/** @type {any} */ (element).nobody = true));
  await arrival.getByText('Nobody from this room is online.').waitFor();
  await shoot('phone-room-nobody');
} finally {
  await browser.close();
  await server.close();
}
console.log(`screenshots in ${out}`);
if (violations.length) {
  console.error(`axe found ${violations.length} violations:\n${violations.join('\n')}`);
  process.exitCode = 1;
}
