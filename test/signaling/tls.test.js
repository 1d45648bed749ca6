// HTTPS serving: the operator's certificate (TLS_CERT, TLS_KEY), checked at start with a clear
// error; a self-signed one made once and kept when the server reaches beyond loopback; plain
// http on loopback as before. Every server here listens on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as plainRequest } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { EXIT_CONFIG, createAppServer } from '../../signaling/serve.js';
import { TlsConfigError, certificateNames, isLoopbackHost, readTlsFiles, selfSignedTls, tlsFromEnv } from '../../signaling/tls-certificate.js';
import { recordingLogger, responseText, TestClient } from './signaling-test-client.js';

const SERVE = fileURLToPath(new URL('../../signaling/serve.js', import.meta.url));

/** @type {string} */
let parent;
/** @type {string} */
let root;
/** An operator's certificate for localhost, and an unrelated one. @type {{ cert: string, key: string, certPath: string, keyPath: string, otherKeyPath: string }} */
let files;

/** @param {string} name */
async function certificate(name) {
  return generate([{ name: 'commonName', value: name }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: name }, { type: 7, ip: '127.0.0.1' }] }],
  });
}

before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'ednet-tls-'));
  root = join(parent, 'dist');
  await mkdir(root);
  await writeFile(join(root, 'index.html'), '<!doctype html><title>EDNet P2P</title>');
  const [mine, other] = await Promise.all([certificate('localhost'), certificate('elsewhere')]);
  files = { cert: mine.cert, key: mine.private, certPath: join(parent, 'cert.pem'), keyPath: join(parent, 'key.pem'), otherKeyPath: join(parent, 'other-key.pem') };
  await writeFile(files.certPath, mine.cert);
  await writeFile(files.keyPath, mine.private);
  await writeFile(files.otherKeyPath, other.private);
  await writeFile(join(parent, 'garbage.pem'), 'not a certificate\n');
});

after(async () => {
  await rm(parent, { recursive: true, force: true });
});

/**
 * GET over https, trusting only `ca`.
 * @param {string} url
 * @param {string} ca
 * @returns {Promise<{ status: number | undefined, body: string }>}
 */
async function getHttps(url, ca) {
  const { status, body } = await responseText((onResponse) => request(url, { ca, agent: false, servername: 'localhost' }, onResponse));
  return { status, body };
}

/**
 * GET over plain http.
 * @param {string} url
 * @param {Record<string, string>} [headers]
 * @returns {Promise<{ status: number | undefined, location: string | undefined }>}
 */
function getPlain(url, headers = {}) {
  return new Promise((resolve, reject) => {
    plainRequest(url, { agent: false, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode, location: response.headers.location }));
    })
      .on('error', reject)
      .end();
  });
}

/**
 * Runs `node signaling/serve.js` with `env` until it prints its address (then stops it) or exits.
 * @param {Record<string, string>} env
 * @returns {Promise<{ code: number | null, output: string }>}
 */
function runServer(env) {
  const child = spawn(process.execPath, [SERVE, root], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        output += chunk;
        if (/SHA-256 fingerprint: \S+\n/.test(output) || /EDNet P2P: http:/.test(output)) child.kill('SIGTERM');
      });
    }
    child.once('exit', (code) => resolve({ code, output }));
  });
}

test('only localhost, 127.0.0.0/8 and ::1 count as loopback', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'laptop.local', '10.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});

test('on loopback without a certificate the server stays plain http; TLS=off keeps it so everywhere', async () => {
  assert.equal(await tlsFromEnv({}, '127.0.0.1'), undefined);
  assert.equal(await tlsFromEnv({}, 'localhost'), undefined);
  assert.equal(await tlsFromEnv({ TLS: 'off', DATA_DIR: join(parent, 'unused') }, '0.0.0.0'), undefined);
});

test('TLS_CERT and TLS_KEY serve https and wss on one port', async () => {
  const tls = await tlsFromEnv({ TLS_CERT: files.certPath, TLS_KEY: files.keyPath }, '127.0.0.1');
  assert.ok(tls);
  assert.equal(tls.source, 'files');
  assert.equal(tls.fingerprint, new X509Certificate(files.cert).fingerprint256);
  const app = await createAppServer({ port: 0, host: '127.0.0.1', root, tls, signaling: { logger: recordingLogger(), requireDeviceProof: false } });
  try {
    assert.match(app.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(app.signalingUrl, /^wss:\/\/127\.0\.0\.1:\d+\/signaling$/);
    assert.deepEqual(await getHttps(`${app.url}healthz`, files.cert), { status: 200, body: 'ok\n' });
    const client = await TestClient.connect(app.signalingUrl, { ca: files.cert });
    const joined = await client.join('tls-room', 'peer-a');
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    client.close();
    // A client that does not trust the certificate is refused by TLS, not served in plain text.
    await assert.rejects(getHttps(`${app.url}healthz`, (await certificate('localhost')).cert), /self[- ]signed|unable to verify|certificate/i);
  } finally {
    await app.close();
  }
});

test('plain http to the https port is redirected to https; a malformed Host gets 400; a silent connection changes nothing', async () => {
  const tls = await readTlsFiles(files.certPath, files.keyPath);
  const app = await createAppServer({ port: 0, host: '127.0.0.1', root, tls, signaling: { logger: recordingLogger(), requireDeviceProof: false } });
  try {
    const plain = `http://127.0.0.1:${app.port}/room?x=1`;
    const redirected = await getPlain(plain);
    assert.equal(redirected.status, 308);
    assert.equal(redirected.location, `https://127.0.0.1:${app.port}/room?x=1`);
    assert.equal((await getPlain(plain, { host: 'evil.example/path' })).status, 400);
    // A connection that closes before saying anything, then https still serves.
    await new Promise((resolve) => {
      const socket = connect(app.port, '127.0.0.1', () => socket.end());
      socket.on('close', resolve);
    });
    assert.deepEqual(await getHttps(`${app.url}healthz`, files.cert), { status: 200, body: 'ok\n' });
  } finally {
    await app.close();
  }
});

test('bad certificate settings stop the start with an error naming the setting', async () => {
  const cases = /** @type {const} */ ([
    [{ TLS_CERT: files.certPath }, /TLS_CERT and TLS_KEY go together/],
    [{ TLS_KEY: files.keyPath }, /TLS_CERT and TLS_KEY go together/],
    [{ TLS_CERT: join(parent, 'missing.pem'), TLS_KEY: files.keyPath }, /TLS_CERT \(.*missing\.pem\) cannot be read: no such file/],
    [{ TLS_CERT: parent, TLS_KEY: files.keyPath }, /TLS_CERT .* cannot be read: it is a folder/],
    [{ TLS_CERT: join(parent, 'garbage.pem'), TLS_KEY: files.keyPath }, /TLS_CERT .*garbage\.pem\) holds no PEM certificate/],
    [{ TLS_CERT: files.certPath, TLS_KEY: join(parent, 'garbage.pem') }, /TLS_KEY .*garbage\.pem\) holds no unencrypted PEM private key/],
    // The key file is often the certificate by mistake.
    [{ TLS_CERT: files.certPath, TLS_KEY: files.certPath }, /TLS_KEY .* holds no unencrypted PEM private key/],
    [{ TLS_CERT: files.certPath, TLS_KEY: files.otherKeyPath }, /TLS_KEY .*other-key\.pem\) is not the key of the certificate in TLS_CERT/],
    [{ TLS: 'on' }, /TLS must be auto or off/],
    [{ TLS: 'off', TLS_CERT: files.certPath, TLS_KEY: files.keyPath }, /TLS=off contradicts/],
  ]);
  for (const [env, message] of cases) {
    await assert.rejects(tlsFromEnv(env, '127.0.0.1'), (error) => error instanceof TlsConfigError && message.test(error.message), JSON.stringify(env));
  }
});

test('run with a bad certificate, the server says why and exits with the configuration status, once', async () => {
  const { code, output } = await runServer({ TLS_CERT: join(parent, 'garbage.pem'), TLS_KEY: files.keyPath });
  // 78 (EX_CONFIG): a service manager told `RestartPreventExitStatus=78` does not restart it in a loop.
  assert.equal(code, EXIT_CONFIG);
  assert.match(output, /^EDNet P2P could not start: TLS_CERT \(.*garbage\.pem\) holds no PEM certificate/);
  assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  assert.doesNotMatch(output, /EDNet P2P: http/);
});

test('run with TLS_CERT and TLS_KEY, the server prints its https address and the certificate fingerprint', async () => {
  const { output } = await runServer({ TLS_CERT: files.certPath, TLS_KEY: files.keyPath });
  assert.match(output, /EDNet P2P: https:\/\/127\.0\.0\.1:\d+\/ \(signaling at wss:\/\/127\.0\.0\.1:\d+\/signaling\)/);
  assert.ok(output.includes(`SHA-256 fingerprint: ${new X509Certificate(files.cert).fingerprint256}`), output);
});

test('beyond loopback without a certificate, a self-signed one is made once, kept in DATA_DIR and reused', async () => {
  const dataDir = join(parent, 'data');
  const first = await tlsFromEnv({ DATA_DIR: dataDir }, '0.0.0.0');
  assert.ok(first);
  assert.equal(first.source, 'created');
  assert.equal(first.certPath, join(dataDir, 'tls', 'self-signed.crt'));
  const x509 = new X509Certificate(first.cert);
  assert.equal(first.fingerprint, x509.fingerprint256);
  assert.ok(x509.checkHost('localhost'));
  assert.ok(x509.checkIP('127.0.0.1'));
  // Only the owner may read the private key.
  assert.equal((await stat(join(dataDir, 'tls', 'self-signed.key'))).mode & 0o077, 0);

  const second = await tlsFromEnv({ DATA_DIR: dataDir }, '0.0.0.0');
  assert.equal(second?.source, 'reused');
  assert.equal(second?.fingerprint, first.fingerprint);
  assert.equal(second?.key, first.key);

  // Served, it is the certificate a client sees.
  const app = await createAppServer({ port: 0, host: '127.0.0.1', root, tls: first, signaling: { logger: recordingLogger() } });
  try {
    assert.equal((await getHttps(`${app.url}healthz`, first.cert)).status, 200);
  } finally {
    await app.close();
  }
});

test('a kept certificate that is damaged or near its end is replaced, saying why', async () => {
  const dataDir = join(parent, 'renewed');
  const first = await selfSignedTls(dataDir);
  /** @type {string[]} */
  const reasons = [];
  const onReplaced = (/** @type {string} */ reason) => reasons.push(reason);

  const late = await selfSignedTls(dataDir, { now: new Date(first.validTo.getTime() - 10 * 24 * 3600 * 1000), onReplaced });
  assert.equal(late.source, 'created');
  assert.notEqual(late.fingerprint, first.fingerprint);
  assert.match(reasons.at(-1) ?? '', /ends on/);

  await writeFile(join(dataDir, 'tls', 'self-signed.crt'), 'half a certi');
  const repaired = await selfSignedTls(dataDir, { onReplaced });
  assert.equal(repaired.source, 'created');
  assert.match(reasons.at(-1) ?? '', /damaged/);
  assert.equal(await readFile(join(dataDir, 'tls', 'self-signed.crt'), 'utf8'), repaired.cert);
  assert.equal((await selfSignedTls(dataDir)).source, 'reused');
});

test('the self-signed certificate names the address the server listens on', () => {
  assert.ok(certificateNames('192.168.1.20').includes('192.168.1.20'));
  assert.ok(certificateNames('0.0.0.0').includes('localhost'));
  assert.ok(!certificateNames('0.0.0.0').includes('0.0.0.0'));
});

test('the operator certificate is read as given, chain and all', async () => {
  const chainPath = join(parent, 'fullchain.pem');
  await writeFile(chainPath, `${files.cert.trimEnd()}\n${(await certificate('intermediate')).cert}`);
  const tls = await readTlsFiles(chainPath, files.keyPath);
  assert.equal(tls.fingerprint, new X509Certificate(files.cert).fingerprint256);
});
