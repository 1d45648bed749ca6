// The certificate the app server uses for HTTPS (and wss on the same port). Browsers give
// `crypto.subtle`, service workers and installation only to secure pages, so a phone opening the
// server's address needs https: with the operator's certificate (TLS_CERT, TLS_KEY), or else, when
// the server listens beyond this machine, a self-signed one made on first start, kept in a data
// folder and reused, whose fingerprint the server prints so it can be checked on the phone.
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';

/** Where the generated certificate is kept unless DATA_DIR says otherwise: ignored by git, never served. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../.ednet-data/', import.meta.url));
/** A generated certificate lasts this long… */
const VALIDITY_DAYS = 365;
/** …and is replaced when less than this is left, so a running server never holds an expired one. */
const RENEW_DAYS_BEFORE = 30;
const DAY_MS = 24 * 3600 * 1000;

/**
 * @typedef {object} TlsCredentials
 * @property {string} cert PEM, the server's certificate first (a chain may follow).
 * @property {string} key PEM private key.
 * @property {string} fingerprint SHA-256 of the certificate as browsers show it (`AB:CD:…`).
 * @property {string} spkiHash base64 SHA-256 of its public key (what Chromium's `--ignore-certificate-errors-spki-list` takes).
 * @property {Date} validTo
 * @property {'files' | 'created' | 'reused'} source From TLS_CERT/TLS_KEY, made now, or made on an earlier start.
 * @property {string | undefined} certPath Where the certificate is read from or kept.
 */

/** A configuration problem the operator must fix; the server stops with its message, no stack. */
export class TlsConfigError extends Error {
  /** @override */
  name = 'TlsConfigError';
}

/** True for addresses only this machine can reach: `localhost`, 127.0.0.0/8, ::1. */
export function isLoopbackHost(/** @type {string} */ host) {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.')) || bare === '::ffff:127.0.0.1';
}

/**
 * What the server should listen with, from its environment: the operator's certificate
 * (TLS_CERT and TLS_KEY, file paths), else a self-signed one when it listens beyond loopback,
 * else nothing (plain http on loopback: `npm start` as before). `TLS=off` keeps plain http on any
 * address, for a reverse proxy in front that does TLS itself.
 * @param {Record<string, string | undefined>} env
 * @param {string} host Where the server listens.
 * @param {{ warn?: (message: string) => void }} [options] `warn` hears why a kept certificate was replaced.
 * @returns {Promise<TlsCredentials | undefined>}
 */
export async function tlsFromEnv(env, host, { warn } = {}) {
  const certPath = env.TLS_CERT || undefined;
  const keyPath = env.TLS_KEY || undefined;
  const mode = env.TLS || 'auto';
  if (mode !== 'auto' && mode !== 'off') throw new TlsConfigError(`TLS must be auto or off, got ${JSON.stringify(env.TLS)}`);
  if ((certPath === undefined) !== (keyPath === undefined)) throw new TlsConfigError('TLS_CERT and TLS_KEY go together: set both file paths, or neither');
  if (certPath !== undefined && keyPath !== undefined) {
    if (mode === 'off') throw new TlsConfigError('TLS=off contradicts TLS_CERT and TLS_KEY: unset one or the other');
    return readTlsFiles(certPath, keyPath);
  }
  if (mode === 'off' || isLoopbackHost(host)) return undefined;
  return selfSignedTls(env.DATA_DIR || DEFAULT_DATA_DIR, {
    names: certificateNames(host),
    onReplaced: (reason) => warn?.(`Making a new self-signed certificate: ${reason}. Devices that accepted the old one will be asked again.`),
  });
}

/**
 * The operator's certificate and key, checked now so a mistake stops the start with a message
 * naming the file rather than failing each browser's handshake later.
 * @param {string} certPath
 * @param {string} keyPath
 * @returns {Promise<TlsCredentials>}
 */
export async function readTlsFiles(certPath, keyPath) {
  const cert = await readText(certPath, 'TLS_CERT');
  const key = await readText(keyPath, 'TLS_KEY');
  let x509;
  try {
    // A full chain holds the server's certificate first; X509Certificate reads one.
    x509 = new X509Certificate(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(cert)?.[0] ?? cert);
  } catch {
    throw new TlsConfigError(`TLS_CERT (${certPath}) holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new TlsConfigError(`TLS_KEY (${keyPath}) holds no unencrypted PEM private key ("-----BEGIN PRIVATE KEY-----" or similar)`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsConfigError(`TLS_KEY (${keyPath}) is not the key of the certificate in TLS_CERT (${certPath})`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsConfigError(`TLS_CERT (${certPath}) and TLS_KEY (${keyPath}) cannot serve TLS: ${error instanceof Error ? error.message : String(error)}`);
  }
  return describe(cert, key, x509, 'files', certPath);
}

/**
 * The self-signed certificate kept in `dataDir/tls/`, made there on first use (or when the kept
 * one is unreadable or near its end). Reusing it keeps its fingerprint, so devices that accepted
 * it once are not asked again.
 * @param {string} dataDir
 * @param {{ names?: string[], now?: Date, onReplaced?: (reason: string) => void }} [options]
 *   `names`: the host names and addresses it is made for; `onReplaced`: told why a kept one was not reused.
 * @returns {Promise<TlsCredentials>}
 */
export async function selfSignedTls(dataDir, { names = certificateNames('0.0.0.0'), now = new Date(), onReplaced } = {}) {
  const folder = join(resolve(dataDir), 'tls');
  const certPath = join(folder, 'self-signed.crt');
  const keyPath = join(folder, 'self-signed.key');
  const kept = await readKept(certPath, keyPath, now);
  if (kept.credentials) return kept.credentials;
  if (kept.problem) onReplaced?.(kept.problem);

  const pems = await generate([{ name: 'commonName', value: `EDNet P2P on ${hostname()}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - DAY_MS),
    notAfterDate: new Date(now.getTime() + VALIDITY_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
    ],
  });
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    // Written aside, then renamed: a server stopped mid-write leaves no half certificate behind.
    await writeFile(`${keyPath}.tmp`, pems.private, { mode: 0o600 });
    await chmod(`${keyPath}.tmp`, 0o600);
    await writeFile(`${certPath}.tmp`, pems.cert);
    await rename(`${keyPath}.tmp`, keyPath);
    await rename(`${certPath}.tmp`, certPath);
  } catch (error) {
    throw new TlsConfigError(`cannot keep the self-signed certificate in ${folder} (set DATA_DIR to a writable folder): ${error instanceof Error ? error.message : String(error)}`);
  }
  return describe(pems.cert, pems.private, new X509Certificate(pems.cert), 'created', certPath);
}

/**
 * The names a self-signed certificate is made for: localhost, this machine's name (and its
 * `.local` mDNS name), and the addresses other devices can reach it at.
 * @param {string} host Where the server listens: a wildcard means every address of this machine.
 */
export function certificateNames(host) {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  const name = hostname().toLowerCase();
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) names.add(name).add(name.includes('.') ? name : `${name}.local`);
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare !== '0.0.0.0' && bare !== '::') names.add(bare);
  else for (const address of reachableAddresses()) names.add(address);
  return [...names];
}

/**
 * The URLs other devices can open: each external address of this machine when the server listens
 * on every interface, else the one it listens on.
 * @param {string} host
 * @param {number} port
 * @param {'http' | 'https'} protocol
 */
export function reachableUrls(host, port, protocol) {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = bare === '0.0.0.0' || bare === '::' ? reachableAddresses() : [bare];
  return addresses.map((address) => `${protocol}://${isIP(address) === 6 ? `[${address}]` : address}:${port}/`);
}

/** External addresses of this machine, IPv4 first; link-local IPv6 is left out (it needs a zone). */
function reachableAddresses() {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && !entry.internal && !(entry.family === 'IPv6' && entry.address.toLowerCase().startsWith('fe80')));
  return addresses.sort((a, b) => (a?.family === b?.family ? 0 : a?.family === 'IPv4' ? -1 : 1)).map((entry) => /** @type {{ address: string }} */ (entry).address);
}

/**
 * The kept certificate when it is whole and not near its end; otherwise why not (nothing when
 * there is none yet).
 * @param {string} certPath
 * @param {string} keyPath
 * @param {Date} now
 * @returns {Promise<{ credentials?: TlsCredentials, problem?: string }>}
 */
async function readKept(certPath, keyPath, now) {
  let cert;
  let key;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return {};
    return { problem: `the kept certificate cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) return { problem: 'the kept key does not belong to the kept certificate' };
    if (new Date(x509.validTo).getTime() - now.getTime() < RENEW_DAYS_BEFORE * DAY_MS) return { problem: `the kept certificate ends on ${x509.validTo}` };
    return { credentials: describe(cert, key, x509, 'reused', certPath) };
  } catch {
    return { problem: 'the kept certificate or key is damaged' };
  }
}

/**
 * @param {string} cert
 * @param {string} key
 * @param {X509Certificate} x509
 * @param {TlsCredentials['source']} source
 * @param {string} certPath
 * @returns {TlsCredentials}
 */
function describe(cert, key, x509, source, certPath) {
  const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
  return {
    cert,
    key,
    fingerprint: x509.fingerprint256,
    spkiHash: createHash('sha256').update(spki).digest('base64'),
    validTo: new Date(x509.validTo),
    source,
    certPath,
  };
}

/** @param {string} path @param {string} variable */
async function readText(path, variable) {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : error instanceof Error ? error.message : String(error);
    throw new TlsConfigError(`${variable} (${path}) cannot be read: ${why}`);
  }
}
