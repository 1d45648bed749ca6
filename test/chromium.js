// Where the tests find Chromium, and the flags that keep it off the network.
import { existsSync } from 'node:fs';

/** Flags for every Chromium the tests and benchmarks start: no mDNS, no background traffic. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
];

/** The system Chromium: `CHROMIUM_PATH`, else the usual Debian and Ubuntu locations. */
export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path) => path && existsSync(path));
}

// `node test/chromium.js` is the first step of `npm test`: fail early with a useful message.
if (import.meta.url === `file://${process.argv[1]}`) {
  if (!chromiumPath()) {
    console.error(
      'No Chromium found. Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) ' +
        'or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
    process.exit(1);
  }
}
