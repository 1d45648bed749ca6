// A Chromium process of the tests' own, on a profile that outlives it, so a test can kill the
// browser (SIGKILL: what was not committed to IndexedDB is lost, as on a real device) and start it
// again on the same profile.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath } from '../chromium.js';

/**
 * A Chromium process of our own on `profile`, driven over the DevTools protocol, so the test can
 * kill the process itself (Playwright's persistent contexts do not expose it).
 * @param {string} profile
 */
export async function startDevice(profile) {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: set CHROMIUM_PATH (see test/chromium.js).');
  const child = spawn(executablePath, [...chromiumArgs, '--headless=new', `--user-data-dir=${profile}`, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${text}`)), 60_000);
    child.stderr.on('data', (chunk) => {
      text += chunk;
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`Chromium exited (${code}):\n${text}`)));
  });
  const browser = await chromium.connectOverCDP(/** @type {string} */ (endpoint));
  const context = browser.contexts()[0];
  assert.ok(context, 'a persistent profile has a default context');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    context,
    /** Kills the browser process: nothing more is written, nothing more is sent. */
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async close() {
      await browser.close().catch(() => undefined);
      child.kill('SIGKILL');
      await exited;
    },
  };
}
