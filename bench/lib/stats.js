// Repetition and comparison helpers shared by the benchmarks: every figure is a median of several
// runs after a warm-up, with its relative spread ((max - min) / median).

/**
 * @typedef {object} Sample
 * @property {number} median
 * @property {number} spread
 * @property {number} runs
 */

/**
 * Median and relative spread of some numbers.
 * @param {number[]} values
 * @returns {Sample}
 */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { median, spread: median ? +((sorted[sorted.length - 1] - sorted[0]) / median).toFixed(3) : 0, runs: sorted.length };
}

/**
 * Runs `measure` once to warm up, then `runs` times, and summarizes what it returned.
 * @param {number} runs
 * @param {() => number} measure
 * @returns {Sample}
 */
export function repeat(runs, measure) {
  measure();
  return summarize(Array.from({ length: runs }, measure));
}

/**
 * `repeat` for two measurements taken in turns (a, b, a, b, ...), so a change in the machine's
 * load during the runs weighs on both sides alike.
 * @param {number} runs
 * @param {() => number} a
 * @param {() => number} b
 * @returns {[Sample, Sample]}
 */
export function repeatInTurns(runs, a, b) {
  a();
  b();
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    as.push(a());
    bs.push(b());
  }
  return [summarize(as), summarize(bs)];
}

/**
 * `repeatInTurns` for asynchronous measurements.
 * @param {number} runs
 * @param {() => Promise<number>} a
 * @param {() => Promise<number>} b
 * @param {{ warmUp?: boolean }} [options]
 * @returns {Promise<[Sample, Sample]>}
 */
export async function repeatInTurnsAsync(runs, a, b, { warmUp = true } = {}) {
  if (warmUp) {
    await a();
    await b();
  }
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    as.push(await a());
    bs.push(await b());
  }
  return [summarize(as), summarize(bs)];
}

/**
 * `repeat` for asynchronous measurements.
 * @param {number} runs
 * @param {() => Promise<number>} measure
 * @param {{ warmUp?: boolean }} [options]
 * @returns {Promise<Sample>}
 */
export async function repeatAsync(runs, measure, { warmUp = true } = {}) {
  if (warmUp) await measure();
  const values = [];
  for (let i = 0; i < runs; i++) values.push(await measure());
  return summarize(values);
}

/**
 * @typedef {object} Target
 * @property {'ratio' | 'ours'} of which figure the target applies to
 * @property {'>=' | '<=' | '<'} op
 * @property {number} limit
 */

/**
 * A side-by-side row: ours and theirs (Yjs) with ratio ours/theirs, medians and spreads.
 * @param {object} row
 * @param {number} row.workload
 * @param {string} row.name
 * @param {string} row.unit
 * @param {Sample | number} row.ours
 * @param {Sample | number} row.theirs
 * @param {Target} [row.target]
 * @param {Record<string, unknown>} [row.extra]
 */
export function comparison({ workload, name, unit, ours, theirs, target, extra = {} }) {
  const a = typeof ours === 'number' ? { median: ours, spread: 0, runs: 1 } : ours;
  const b = typeof theirs === 'number' ? { median: theirs, spread: 0, runs: 1 } : theirs;
  return {
    workload,
    name,
    value: round(a.median),
    unit,
    ours: round(a.median),
    theirs: round(b.median),
    ratio: +(a.median / b.median).toFixed(3),
    spread: `${a.spread} / ${b.spread}`,
    runs: a.runs,
    ...(target ? { target } : {}),
    ...extra,
  };
}

/** @param {number} value */
export const round = (value) => (Math.abs(value) >= 100 ? Math.round(value) : +value.toPrecision(4));
