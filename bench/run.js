// `npm run bench [-- --quick] [-- --only=prefix[,prefix...]]`: runs every bench/*.bench.js, prints one JSON
// object per measurement on stdout, and writes docs/benchmarks.md with the machine it ran on (with
// --only, the other benches' rows of earlier runs are kept from docs/benchmark-rows.json): the
// side-by-side comparison with Yjs by workload, with targets passed or failed, then the other
// measurements, then the hand-written findings kept in docs/benchmark-findings.md (regenerating
// never touches them). The numbers are measured in this run, never typed in.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** @typedef {import('./lib/stats.js').Target} Target */
/** @typedef {{ bench: string, name: string, unit?: string, value?: number, workload?: number, ours?: number, theirs?: number, ratio?: number, target?: Target, [key: string]: unknown }} Row */

const here = dirname(fileURLToPath(import.meta.url));
const docs = join(here, '..', 'docs');
const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);

/** What each workload measures (5 over WebRTC, by bench/webrtc.bench.js). */
const WORKLOADS = new Map([
  [1, 'Local attribute writes per second'],
  [2, 'Remote changes applied per second (our decode + applyChanges vs Y.applyUpdate)'],
  [3, 'Delta and snapshot bytes'],
  [4, 'Heap memory per entity'],
  [5, 'WebRTC latency and bootstrap'],
  [6, 'IndexedDB save and load (Chromium)'],
  [7, 'First-load JavaScript + CSS, gzipped'],
]);

const files = readdirSync(here)
  .filter((name) => name.endsWith('.bench.js'))
  .filter((name) => !only || only.split(',').some((prefix) => name.startsWith(prefix)))
  .sort();

// The machine is shared: its load before and after the run says how far to trust the timings.
const loadBefore = os.loadavg()[0];
/** @type {Row[]} */
const results = [];
for (const file of files) {
  const module = await import(pathToFileURL(join(here, file)).href);
  if (typeof module.run !== 'function') throw new Error(`${file} does not export run({ quick })`);
  const started = Date.now();
  /** @type {Array<Record<string, unknown>>} */
  let measurements;
  try {
    measurements = (await module.run({ quick })) ?? [];
  } catch (error) {
    // One broken benchmark must not hide the others; the report says what failed.
    console.error(error);
    process.exitCode = 1;
    measurements = [{ name: `FAILED: ${String(/** @type {Error} */ (error)?.message ?? error).split('\n')[0]}` }];
  }
  for (const measurement of measurements) {
    const row = /** @type {Row} */ ({ bench: file.replace(/\.bench\.js$/, ''), ...measurement });
    console.log(JSON.stringify(row));
    results.push(row);
  }
  console.error(`${file}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const cpus = os.cpus();
const machine = `${cpus[0]?.model ?? 'unknown CPU'} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}; 1-minute load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end`;
const command = `npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only=${only}` : ''}`;
const today = new Date().toISOString().slice(0, 10);

// A run of some benches (--only) keeps the other benches' rows from earlier runs, saying where
// they came from, so docs/benchmarks.md always shows every bench as last measured.
const rowsPath = join(docs, 'benchmark-rows.json');
const ran = new Set(files.map((file) => file.replace(/\.bench\.js$/, '')));
/** @typedef {{ date: string, command: string, machine: string }} RunInfo */
/** @type {{ runs: Record<string, RunInfo>, rows: Row[] }} */
let previous = { runs: {}, rows: [] };
if (only && existsSync(rowsPath)) {
  try {
    const read = JSON.parse(readFileSync(rowsPath, 'utf8'));
    if (!read || typeof read.runs !== 'object' || !Array.isArray(read.rows)) throw new Error('not { runs, rows }');
    previous = read;
  } catch (error) {
    console.error(`docs/benchmark-rows.json is unreadable (${/** @type {Error} */ (error).message}): only this run's rows are reported`);
  }
}
/** @type {Record<string, RunInfo>} */
const runs = Object.fromEntries([
  ...Object.entries(previous.runs).filter(([bench]) => !ran.has(bench) && previous.rows.some((row) => row.bench === bench)),
  ...[...ran].map((bench) => [bench, { date: today, command, machine }]),
]);
results.push(...previous.rows.filter((row) => !ran.has(row.bench) && runs[row.bench]));
// Stable: each bench's rows keep their order.
results.sort((a, b) => (a.bench < b.bench ? -1 : a.bench > b.bench ? 1 : 0));
writeFileSync(rowsPath, `${JSON.stringify({ runs, rows: results }, null, 1)}\n`);
const carried = Object.entries(runs).filter(([bench]) => !ran.has(bench));

/** @param {unknown} value */
const cell = (value) =>
  value === undefined || value === null ? '' : typeof value === 'number' ? (Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(+value.toPrecision(4))) : String(value).replace(/\|/g, '\\|');

const OPS = { '>=': '≥', '<=': '≤', '<': '<' };
/** @param {Target} target @param {string | undefined} unit */
const describe = (target, unit) =>
  target.of === 'ratio' ? `ratio ${OPS[target.op]} ${target.limit}` : target.of === 'automerge' ? `ours / Automerge ${OPS[target.op]} ${target.limit}` : `ours ${OPS[target.op]} ${cell(target.limit)} ${unit ?? ''}`.trim();
/** @param {Target} target @param {Row} row */
function passes(target, row) {
  const figure = target.of === 'ratio' ? row.ratio : target.of === 'automerge' ? row.automergeRatio : row.ours;
  if (typeof figure !== 'number') return false;
  return target.op === '>=' ? figure >= target.limit : target.op === '<=' ? figure <= target.limit : figure < target.limit;
}

/** @param {string[]} header @param {unknown[][]} rows */
const table = (header, rows) => [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');

const compared = results.filter((row) => row.workload !== undefined);
// Rows comparing ours with something other than Yjs name it in `versus` (say, signing off).
const baselined = results.filter((row) => row.workload === undefined && typeof row.versus === 'string');
const others = results.filter((row) => row.workload === undefined && row.versus === undefined);
const COMMON = new Set(['bench', 'name', 'unit', 'value', 'median', 'spread', 'runs', 'workload', 'ours', 'theirs', 'ratio', 'automerge', 'automergeRatio', 'target', 'versus']);
/** @param {Row} row */
const details = (row) =>
  Object.entries(row)
    .filter(([key]) => !COMMON.has(key))
    .map(([key, value]) => `${key} ${cell(value)}`)
    .join(', ');

const sections = [];
for (const [workload, title] of WORKLOADS) {
  const rows = compared.filter((row) => row.workload === workload);
  if (!rows.length) {
    if (!only) sections.push(`### ${workload}. ${title}\n\nNo rows in this run.`);
    continue;
  }
  sections.push(
    `### ${workload}. ${title}\n\n` +
      table(
        ['measurement', 'ours', 'Yjs', 'Automerge', 'unit', 'ours / Yjs', 'ours / Automerge', 'target', 'result', 'runs', 'spread ours / Yjs / Automerge', 'details'],
        rows.map((row) => [
          row.name,
          row.ours ?? row.value,
          row.theirs,
          row.automerge,
          row.unit,
          row.ratio,
          row.automergeRatio,
          row.target ? describe(row.target, row.unit) : '',
          row.target ? (passes(row.target, row) ? 'pass' : '**FAIL**') : '',
          row.runs,
          row.spread,
          details(row),
        ]),
      ),
  );
}

const targeted = [...compared, ...baselined, ...others].filter((row) => row.target);
const summary = targeted.length
  ? `Targets: ${targeted.filter((row) => row.target && passes(row.target, row)).length} of ${targeted.length} met.`
  : 'No targets in this run.';
const findingsPath = join(docs, 'benchmark-findings.md');
const findings = existsSync(findingsPath) ? readFileSync(findingsPath, 'utf8').trim() : '## Findings\n\nNone recorded yet.';

writeFileSync(
  join(docs, 'benchmarks.md'),
  [
    '# Benchmarks',
    `Generated by \`${command}\` on ${today} (do not edit: findings go in docs/benchmark-findings.md).\nMachine: ${machine}.` +
      (carried.length
        ? `\n\nRows of benches this run left out are kept from the run that last measured them:\n${carried.map(([bench, run]) => `- ${bench}: \`${run.command}\` on ${run.date}; ${run.machine}.`).join('\n')}`
        : ''),
    'Every figure is a median of several runs after a warm-up (sizes are measured once); spread is (max − min) / median. ' +
      'Ours and Yjs run the same electoral workload: 10 open elections with 4 candidates each, voters (6 attributes) registered for one election, ' +
      'a ballot from each voter but 50; Yjs holds one `Y.Map` per entity. Automerge, where a row has it (the in-Node workloads 1–3), holds the same map of maps, ' +
      'built in changes of 1,000 operations. Ratios are ours / Yjs and ours / Automerge; targets apply to the ratio to Yjs unless they say otherwise.',
    `## Side by side with Yjs and Automerge\n\n${summary}`,
    ...sections,
    baselined.length
      ? `## Against another baseline\n\n${table(
          ['bench', 'measurement', 'ours', 'baseline', 'unit', 'ours / baseline', 'target', 'result', 'runs', 'details'],
          baselined.map((row) => [
            row.bench,
            row.name,
            row.ours,
            `${cell(row.theirs)} (${row.versus})`,
            row.unit,
            row.ratio,
            row.target ? describe(row.target, row.unit) : '',
            row.target ? (passes(row.target, row) ? 'pass' : '**FAIL**') : '',
            row.runs,
            details(row),
          ]),
        )}`
      : '',
    others.length
      ? `## Other measurements (ours only)\n\n${table(
          ['bench', 'measurement', 'value', 'unit', 'target', 'result', 'runs', 'spread', 'details'],
          others.map((row) => [
            row.bench,
            row.name,
            row.value,
            row.unit,
            row.target ? describe(row.target, row.unit) : '',
            row.target ? (passes(row.target, row) ? 'pass' : '**FAIL**') : '',
            row.runs,
            row.spread,
            details(row),
          ]),
        )}`
      : '',
    findings,
  ]
    .filter(Boolean)
    .join('\n\n') + '\n',
);
