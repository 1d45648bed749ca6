// Bundles the core (crdt, domain, electoral model, change certificates), or any other set of modules a
// benchmark names, with esbuild (types stripped, not checked) into a temporary module, so the
// benchmarks and the heap probe run our TypeScript in plain Node.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @typedef {object} Core
 * @property {typeof import('../../src/crdt/index.js').VersionVector} VersionVector
 * @property {typeof import('../../src/domain/index.js').decodeChangeBatch} decodeChangeBatch
 * @property {typeof import('../../src/models/electoral/index.js').ElectoralSystemModel} ElectoralSystemModel
 * @property {typeof import('../../src/sync/sync-message.js').encodeSyncMessage} encodeSyncMessage
 * @property {typeof import('../../src/sync/sync-message.js').decodeSyncMessage} decodeSyncMessage
 * @property {typeof import('../../src/security/change-certification.js').ChangeCertification} ChangeCertification
 * @property {typeof import('../../src/security/device-identity.js').DeviceIdentity} DeviceIdentity
 */

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What the core bundle exports. */
const CORE_EXPORTS = [
  "export { VersionVector } from './src/crdt/index.ts';",
  "export { decodeChangeBatch } from './src/domain/index.ts';",
  "export { ElectoralSystemModel } from './src/models/electoral/index.ts';",
  "export { encodeSyncMessage, decodeSyncMessage } from './src/sync/sync-message.ts';",
  "export { ChangeCertification } from './src/security/change-certification.ts';",
  "export { DeviceIdentity } from './src/security/device-identity.ts';",
];

/**
 * Bundles a module of `exportLines` (re-exports from the repository's TypeScript) into a
 * temporary file named after `name`; `dispose` removes it.
 * @param {string} name
 * @param {string[]} exportLines
 * @returns {Promise<{ path: string, dispose: () => void }>}
 */
export async function bundleModule(name, exportLines) {
  const path = join(tmpdir(), `ednet-${name}-${process.pid}-${Date.now()}.mjs`);
  await build({
    stdin: { contents: exportLines.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: path,
    logLevel: 'error',
  });
  return { path, dispose: () => rmSync(path, { force: true }) };
}

/**
 * Bundles and imports a module of `exportLines` in one step (the bundle file is removed once imported).
 * @param {string} name
 * @param {string[]} exportLines
 * @returns {Promise<any>}
 */
export async function importBundledModule(name, exportLines) {
  const bundle = await bundleModule(name, exportLines);
  try {
    return await import(pathToFileURL(bundle.path).href);
  } finally {
    bundle.dispose();
  }
}

/**
 * Writes the core bundle to a temporary file; `dispose` removes it.
 * @returns {Promise<{ path: string, dispose: () => void }>}
 */
export function bundleCore() {
  return bundleModule('core-bench', CORE_EXPORTS);
}

/**
 * Imports a core bundle written by `bundleCore`.
 * @param {string} path
 * @returns {Promise<Core>}
 */
export async function importCore(path) {
  return import(pathToFileURL(path).href);
}

/**
 * Bundles and imports the core in one step (the bundle file is removed once imported).
 * @returns {Promise<Core>}
 */
export function loadCore() {
  return importBundledModule('core-bench', CORE_EXPORTS);
}
