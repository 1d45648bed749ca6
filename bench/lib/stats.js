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
 * `repeat` for measurements taken in turns (a, b, a, b, ...), so a change in the machine's load
 * during the runs weighs on every side alike.
 * @param {number} runs
 * @param {...(() => number)} measures
 * @returns {Sample[]}
 */
export function repeatInTurns(runs, ...measures) {
  for (const measure of measures) measure();
  /** @type {number[][]} */
  const values = measures.map(() => []);
  for (let i = 0; i < runs; i++) measures.forEach((measure, side) => values[side].push(measure()));
  return values.map(summarize);
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
 * @property {'ratio' | 'automerge' | 'ours'} of which figure the target applies to: ours / Yjs, ours / Automerge, or ours
 * @property {'>=' | '<=' | '<'} op
 * @property {number} limit
 */

/**
 * A side-by-side row: ours and theirs (Yjs) with ratio ours/theirs, medians and spreads; with
 * `automerge`, a third side (Automerge) and its ratio ours/Automerge.
 * @param {object} row
 * @param {number} row.workload
 * @param {string} row.name
 * @param {string} row.unit
 * @param {Sample | number} row.ours
 * @param {Sample | number} row.theirs
 * @param {Sample | number} [row.automerge]
 * @param {Target} [row.target] on the ratio to Yjs, or on ours
 * @param {Record<string, unknown>} [row.extra]
 */
export function comparison({ workload, name, unit, ours, theirs, automerge, target, extra = {} }) {
  const sample = (/** @type {Sample | number} */ value) => (typeof value === 'number' ? { median: value, spread: 0, runs: 1 } : value);
  const a = sample(ours);
  const b = sample(theirs);
  const c = automerge === undefined ? undefined : sample(automerge);
  return {
    workload,
    name,
    value: round(a.median),
    unit,
    ours: round(a.median),
    theirs: round(b.median),
    ratio: +(a.median / b.median).toFixed(3),
    spread: `${a.spread} / ${b.spread}${c ? ` / ${c.spread}` : ''}`,
    runs: a.runs,
    ...(c ? { automerge: round(c.median), automergeRatio: +(a.median / c.median).toFixed(3) } : {}),
    ...(target ? { target } : {}),
    ...extra,
  };
}

/** @param {number} value */
export const round = (value) => (Math.abs(value) >= 100 ? Math.round(value) : +value.toPrecision(4));
