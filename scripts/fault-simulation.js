#!/usr/bin/env node
// The long run of the seeded fault simulation (test/sync/fault-simulation/): bundles it with esbuild
// for Node and runs many seeds, then prints failures per fault profile and check. The fast slice of
// the same simulation runs in `npm test`.
//
//   npm run fault-sim -- --seeds 500 [--from 1] [--steps 400] [--profile crash-unsaved]
//                        [--signed | --unsigned] [--nodes 5] [--items-per-slice 2] [--seed 17] [--verbose]
//
// Exits with 1 if any seed failed a check. `--seed N` replays one seed and prints its trace.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);

const single = option('seed', undefined);
const from = Number(option('from', 1));
const seeds = single !== undefined ? 1 : Number(option('seeds', 500));
const first = single !== undefined ? Number(single) : from;
const steps = Number(option('steps', 400));
const profile = option('profile', undefined);
const nodes = option('nodes', undefined) === undefined ? undefined : Number(option('nodes'));
const itemsPerSlice = option('items-per-slice', undefined) === undefined ? undefined : Number(option('items-per-slice'));
const signed = flag('signed') ? true : flag('unsigned') ? false : undefined;
const verbose = flag('verbose') || single !== undefined;
for (const [name, value] of [['seeds', seeds], ['from', first], ['steps', steps]])
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer`);
    process.exit(2);
  }

const out = mkdtempSync(join(tmpdir(), 'fault-sim-'));
try {
  const bundle = join(out, 'fault-simulation.mjs');
  await build({
    entryPoints: [join(root, 'test/sync/fault-simulation/fault-simulation.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'error',
  });
  const { runSeed, formatFailure, CHECKS, FAULT_PROFILES } = await import(pathToFileURL(bundle).href);
  const table = new Map([...FAULT_PROFILES, 'signed', 'unsigned', 'all'].map((name) => [name, { seeds: 0, failed: 0, checks: new Map() }]));
  const failedSeeds = [];
  const seedsByCheck = new Map(CHECKS.map((check) => [check, []]));
  const started = Date.now();
  for (let seed = first; seed < first + seeds; seed++) {
    const result = await runSeed({ seed, steps, profile, signed, nodes, itemsPerSlice });
    const rows = [table.get(result.profile), table.get(result.signed ? 'signed' : 'unsigned'), table.get('all')];
    for (const row of rows) {
      row.seeds++;
      if (!result.failures.length) continue;
      row.failed++;
      for (const check of new Set(result.failures.map((failure) => failure.check))) row.checks.set(check, (row.checks.get(check) ?? 0) + 1);
    }
    for (const check of new Set(result.failures.map((failure) => failure.check))) seedsByCheck.get(check).push(seed);
    if (result.failures.length) {
      failedSeeds.push(seed);
      if (verbose) console.log(formatFailure(result));
    }
    if (!verbose && (seed - first + 1) % 50 === 0) process.stderr.write(`${seed - first + 1} seeds…\n`);
  }
  console.log(`\n${seeds} seeds (from ${first}, ${steps} fault steps each) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log('Seeds failing each check, by fault profile and by signing:');
  console.log(['profile'.padEnd(18), 'seeds', 'failed', ...CHECKS.map((check) => check)].join('  '));
  for (const [name, row] of table) {
    if (!row.seeds) continue;
    console.log([name.padEnd(18), String(row.seeds).padStart(5), String(row.failed).padStart(6), ...CHECKS.map((check) => String(row.checks.get(check) ?? 0).padStart(check.length))].join('  '));
  }
  if (failedSeeds.length) {
    console.log('\nFirst failing seeds per check:');
    for (const [check, list] of seedsByCheck) if (list.length) console.log(`  ${check}: ${list.slice(0, 12).join(' ')}${list.length > 12 ? ' …' : ''}`);
    console.log(`\n${failedSeeds.length} seed(s) failed; replay one with: npm run fault-sim -- --seed N`);
  }
  process.exitCode = failedSeeds.length ? 1 : 0;
} finally {
  rmSync(out, { recursive: true, force: true });
}
