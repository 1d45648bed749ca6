// Long tasks of one page counted by the CPU time its main thread spent in them, from a Chromium
// trace. A PerformanceObserver('longtask') counts wall-clock time, which on a loaded machine also
// counts the time the page's process waited for a core; the trace's thread time (`tdur`) does not.

const MARK = 'bench-main-thread-tasks';
/** Trace events that span a task on a thread (a task is the outermost of those nested in one another). */
const TASK_EVENTS = new Set(['RunTask', 'ThreadControllerImpl::RunTask']);

/**
 * The events not inside an earlier one of the list (on one thread).
 * @template {{ ts: number, dur?: number }} E
 * @param {E[]} events
 * @returns {E[]}
 */
function outermost(events) {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const out = [];
  let end = -Infinity;
  for (const event of sorted) {
    if (event.ts < end) continue;
    out.push(event);
    end = event.ts + (event.dur ?? 0);
  }
  return out;
}

/**
 * Traces `page` while `work` runs; resolves with what `work` returned and the page's main-thread
 * tasks: how many took more than `limitMs` of CPU, the longest, the same by wall clock, and the
 * CPU time of all of them.
 * @template T
 * @param {import('playwright-core').Browser} browser
 * @param {import('playwright-core').Page} page
 * @param {() => Promise<T>} work
 * @param {number} [limitMs]
 * @returns {Promise<{ result: T, tasks: { overLimitCpu: number, longestCpuMs: number, overLimitWall: number, longestWallMs: number, cpuMs: number } }>}
 */
export async function traceMainThreadTasks(browser, page, work, limitMs = 50) {
  /** @type {Buffer} */
  let trace;
  // `RunTask` (devtools.timeline) spans a whole task, the microtask checkpoint after it included;
  // `ThreadControllerImpl::RunTask` (toplevel) leaves that checkpoint out, where every promise
  // continuation runs: counted alone, it measured about half of the thread's CPU (checked against
  // the thread's CPU time in /proc).
  await browser.startTracing(page, { categories: ['toplevel', 'disabled-by-default-devtools.timeline', 'blink.user_timing'] });
  /** @type {T} */
  let result;
  try {
    // The mark names the page's main thread in the trace (every renderer of the browser is in it).
    await page.evaluate((mark) => performance.mark(mark), MARK);
    result = await work();
  } finally {
    trace = await browser.stopTracing();
  }
  /** @type {Array<{ name: string, ph: string, ts: number, pid: number, tid: number, dur?: number, tdur?: number }>} */
  const events = JSON.parse(trace.toString('utf8')).traceEvents;
  const mark = events.find((event) => event.name === MARK);
  if (!mark) throw new Error('the trace lacks the page mark');
  const tasks = outermost(events.filter((event) => event.ph === 'X' && event.pid === mark.pid && event.tid === mark.tid && TASK_EVENTS.has(event.name)));
  const cpuMs = tasks.map((task) => (task.tdur ?? 0) / 1000);
  const wallMs = tasks.map((task) => (task.dur ?? 0) / 1000);
  return {
    result,
    tasks: {
      overLimitCpu: cpuMs.filter((ms) => ms > limitMs).length,
      longestCpuMs: Math.max(0, ...cpuMs),
      overLimitWall: wallMs.filter((ms) => ms > limitMs).length,
      longestWallMs: Math.max(0, ...wallMs),
      cpuMs: cpuMs.reduce((sum, ms) => sum + ms, 0),
    },
  };
}
