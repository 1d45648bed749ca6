// The README and docs/ name files of the project (src/…, test/…, bench/…): each must exist, so a
// file moved or deleted in a change cannot leave a stale pointer in the documentation behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const PATH = /(?<![\w./-])((?:src|test|bench|signaling|scripts|public)\/[\w./*-]*[\w*])/g;

/**
 * Whether `path` names something in the tree: a file or folder, a `.js` import of a `.ts` source, or a `*` pattern matching a file.
 * @param {string} path
 */
function exists(path) {
  if (path.includes('*')) {
    const folder = dirname(path);
    const pattern = new RegExp(`^${path.slice(folder.length + 1).replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
    return existsSync(join(root, folder)) && readdirSync(join(root, folder)).some((name) => pattern.test(name));
  }
  return existsSync(join(root, path)) || (path.endsWith('.js') && existsSync(join(root, `${path.slice(0, -3)}.ts`)));
}

test('every project path the README and docs name exists', () => {
  /** @type {string[]} */
  const missing = [];
  for (const document of documents) {
    for (const [, path] of readFileSync(join(root, document), 'utf8').matchAll(PATH)) if (!exists(path)) missing.push(`${document}: ${path}`);
  }
  assert.deepEqual(missing, []);
});

test('the check sees a missing path', () => {
  const paths = ['src/no-such-file.ts', 'test/node/*.nothing.ts', 'src/util/index.js', 'test/signaling/*.test.js'];
  assert.deepEqual(
    paths.map((path) => [path, exists(path)]),
    [
      ['src/no-such-file.ts', false],
      ['test/node/*.nothing.ts', false],
      ['src/util/index.js', true],
      ['test/signaling/*.test.js', true],
    ],
  );
});
