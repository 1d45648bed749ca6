/**
 * A seeded generator (mulberry32) of floats in [0, 1): the same seed gives the same sequence, so a
 * fuzz, a chaos test or a simulated room replays exactly. Plain JavaScript, so the benchmarks
 * share it too.
 * @param {number} seed
 * @returns {() => number}
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
