// Unit and integration tests run in the system Chromium (see README). Every RTCPeerConnection in
// the tests uses `iceServers: []`, and mDNS host candidates are disabled, so WebRTC traffic stays
// on this machine.
import { playwrightLauncher } from '@web/test-runner-playwright';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromiumPath, chromiumArgs } from './test/chromium.js';
import { signalingServerPlugin } from './test/net/signaling-server-plugin.js';

export default {
  files: ['test/**/*.test.ts', '!test/signaling/**', '!test/scripts/**', '!test/e2e/**'],
  nodeResolve: { exportConditions: ['browser', 'production'] },
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: './tsconfig.json' }),
    // The real signaling server on 127.0.0.1; tests fetch its URL from `/__signaling`.
    signalingServerPlugin(),
  ],
  browsers: [
    playwrightLauncher({
      product: 'chromium',
      launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
    }),
  ],
  concurrency: 2,
  testFramework: { config: { timeout: 20000 } },
  testsFinishTimeout: 10 * 60 * 1000,
};
