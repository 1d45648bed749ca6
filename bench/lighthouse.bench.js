// Lighthouse scores of the built app (scripts/lighthouse.js, `npm run lighthouse`): the landing
// page, a fresh room link and a warm room, mobile and desktop, with the targets of issues 16 and
// 17 and whether each was met. One run per page with --quick, else three (performance is their median).
import { pathToFileURL } from 'node:url';
import { run as lighthouse } from '../scripts/lighthouse.js';

/**
 * @param {{ quick?: boolean }} [options]
 */
export async function run({ quick = false } = {}) {
  const results = await lighthouse({ runs: quick ? 1 : 3 });
  return results.map((result) => ({
    name: `Lighthouse ${result.scenario.name}, ${result.scenario.formFactor}: performance score (${result.scenario.performance ? 'target ≥ 0.9' : 'for information'}); accessibility ${result.scenario.accessibility ? '100 and CLS < 0.1 required' : 'and CLS for information'}`,
    unit: 'score',
    value: result.performance,
    runs: result.runs,
    accessibility: Math.round(result.accessibility * 100),
    CLS: +result.cls.toFixed(3),
    'LCP ms': Math.round(result.lcp),
    'TBT ms': Math.round(result.tbt),
    result: result.misses.length ? `MISS: ${result.misses.join('; ')}` : 'pass',
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await run({ quick: process.argv.includes('--quick') })) console.log(JSON.stringify({ bench: 'lighthouse', ...row }));
}
