// Screenshots of every view at phone and desktop widths, for the docs:
//   node test/ui/screenshots.js [output directory, default docs/screenshots] [light|dark]
// Bundles screenshot-page.ts with esbuild and photographs it in the system Chromium.
import { build } from 'esbuild';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../chromium.js';

const out = resolve(process.argv[2] ?? 'docs/screenshots');
const colorScheme = process.argv[3] === 'dark' ? 'dark' : 'light';
const work = await mkdtemp(join(tmpdir(), 'ednet-screens-'));
try {
  await build({
    entryPoints: [new URL('./screenshot-page.ts', import.meta.url).pathname],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    conditions: ['browser', 'production'],
    target: 'es2022',
    outfile: join(work, 'page.js'),
    logLevel: 'warning',
  });
  await writeFile(
    join(work, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>EDNet views</title><style>body{margin:0;background:var(--ed-bg);font-family:system-ui,sans-serif}.demo{padding:12px}</style></head>
<body><script src="page.js"></script></body></html>`,
  );
  await mkdir(out, { recursive: true });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  try {
    for (const { label, width } of [
      { label: 'phone', width: 360 },
      { label: 'desktop', width: 1100 },
    ]) {
      const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1, colorScheme });
      await page.goto(pathToFileURL(join(work, 'index.html')).href);
      await page.waitForSelector('ednet-conflicts-panel');
      /** @param {string} tag @param {string} name */
      const shoot = (tag, name) => page.locator(tag).screenshot({ path: join(out, `${name}-${label}.png`), animations: 'disabled' });
      await shoot('ednet-elections-view', 'elections-view');
      if (label === 'phone') {
        // On a phone the bar is worth seeing opened; the other views look like their desktop selves, stacked.
        await page.locator('ednet-status-bar').getByRole('button', { name: 'Details' }).click();
        await shoot('ednet-status-bar', 'status-bar-details');
      } else {
        await shoot('ednet-status-bar', 'status-bar');
        await page.locator('ednet-model-explorer').getByRole('button', { name: /^Edit Ada/ }).click();
        // Clicking scrolled the table to its Edit buttons; show it from its first column.
        await page.locator('ednet-model-explorer .table-wrap').evaluate((wrap) => wrap.scrollTo(0, 0));
        await shoot('ednet-model-explorer', 'model-explorer');
        await shoot('ednet-conflicts-panel', 'conflicts-panel');
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${out}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
