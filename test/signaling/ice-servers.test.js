import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppServer } from '../../signaling/serve.js';
import { iceConfigFromEnv, iceServersAnswer } from '../../signaling/ice-servers.js';
import { recordingLogger } from './signaling-test-client.js';

const SECRET = 'a-test-secret-of-enough-length';

/** Starts the app server with `ice` on a free port, runs `use`, and stops it. */
async function withApp(/** @type {import('../../signaling/ice-servers.js').IceConfig | undefined} */ ice, /** @type {(url: string) => Promise<void>} */ use) {
  const root = await mkdtemp(join(tmpdir(), 'ednet-ice-'));
  await writeFile(join(root, 'index.html'), '<!doctype html><title>t</title>');
  const app = await createAppServer({ port: 0, root, ice, signaling: { logger: recordingLogger() } });
  try {
    await use(app.url);
  } finally {
    await app.close();
    await rm(root, { recursive: true, force: true });
  }
}

test('unconfigured: /ice-servers answers an empty list, uncached', async () => {
  await withApp(undefined, async (url) => {
    const response = await fetch(new URL('/ice-servers', url));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), { iceServers: [], iceTransportPolicy: 'all', expiresAt: null });
  });
  assert.deepEqual(iceServersAnswer(iceConfigFromEnv({})).iceServers, []);
});

test('configured: STUN as given, TURN with a credential that is the HMAC of its username and expires after the TTL', async () => {
  const ice = iceConfigFromEnv({
    STUN_URLS: 'stun:127.0.0.1:3478',
    TURN_URLS: 'turn:127.0.0.1:3478?transport=udp, turns:127.0.0.1:5349?transport=tcp',
    TURN_SECRET: SECRET,
    TURN_TTL: '600',
  });
  await withApp(ice, async (url) => {
    const before = Math.floor(Date.now() / 1000);
    const answer = await (await fetch(new URL('/ice-servers', url))).json();
    const after = Math.floor(Date.now() / 1000);
    assert.deepEqual(answer.iceServers[0], { urls: ['stun:127.0.0.1:3478'] });
    const turn = answer.iceServers[1];
    assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349?transport=tcp']);
    const [expiry, id] = turn.username.split(':');
    assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= after + 600, `expiry ${expiry}`);
    assert.match(id, /^[A-Za-z0-9_-]{8,}$/);
    assert.equal(answer.expiresAt, Number(expiry));
    assert.equal(turn.credential, createHmac('sha1', SECRET).update(turn.username).digest('base64'));
    // Every answer is a new credential.
    const again = await (await fetch(new URL('/ice-servers', url))).json();
    assert.notEqual(again.iceServers[1].username, turn.username);
  });
});

test('ICE_SERVERS (JSON) is served as given; bad configuration refuses to start', () => {
  const servers = [{ urls: 'turn:127.0.0.1:3479', username: 'u', credential: 'p' }];
  assert.deepEqual(iceServersAnswer(iceConfigFromEnv({ ICE_SERVERS: JSON.stringify(servers) })).iceServers, servers);
  assert.throws(() => iceConfigFromEnv({ TURN_URLS: 'turn:127.0.0.1:3478' }), /TURN_SECRET/);
  assert.throws(() => iceConfigFromEnv({ TURN_SECRET: SECRET }), /TURN_URLS/);
  assert.throws(() => iceConfigFromEnv({ STUN_URLS: 'http://127.0.0.1' }), /STUN_URLS/);
  assert.throws(() => iceConfigFromEnv({ ICE_SERVERS: '{' }), /not JSON/);
  assert.throws(() => iceConfigFromEnv({ ICE_SERVERS: '[{"urls":"turn:h"}]' }), /username and credential/);
  assert.throws(() => iceConfigFromEnv({ TURN_URLS: 'turn:h', TURN_SECRET: SECRET, TURN_TTL: '5' }), /TURN_TTL/);
  assert.throws(() => iceConfigFromEnv({ ICE_TRANSPORT_POLICY: 'relay' }), /needs a TURN server/);
});
