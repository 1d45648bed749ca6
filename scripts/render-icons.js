// `node scripts/render-icons.js`: draws the app icons (public/icons/*.png) from public/icons/icon.svg
// with the system Chromium. The PNGs are committed; run this again only after changing the SVG.
// Maskable icons fill the whole square (no rounded corners): the platform cuts its own shape,
// and everything drawn lies inside the central 80% circle that every mask keeps.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../test/chromium.js';

const icons = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
const svg = readFileSync(join(icons, 'icon.svg'), 'utf8');
const maskable = svg.replace('rx="96" ', '');

const targets = [
  { file: 'icon-192.png', size: 192, source: svg },
  { file: 'icon-512.png', size: 512, source: svg },
  { file: 'icon-maskable-192.png', size: 192, source: maskable },
  { file: 'icon-maskable-512.png', size: 512, source: maskable },
  { file: 'apple-touch-icon.png', size: 180, source: maskable },
];

const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const { file, size, source } of targets) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<!doctype html><style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${source}`,
    );
    await page.screenshot({ path: join(icons, file), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    console.log(`wrote public/icons/${file}`);
  }
} finally {
  await browser.close();
}
