/**
 * Waits until `check` holds, polling every few milliseconds; the tests' one way to wait for
 * something asynchronous to happen. Gives up after `timeoutMs` with an error naming what it waited
 * for. The default (60 s) is longer than the runner's per-test timeout, so it never makes a test
 * fail sooner than the runner would on a slow machine; it speaks for tests that raise their
 * own timeout, and for a hang outside a runner's.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what = 'a condition', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}: ${check.toString().slice(0, 200)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
