// The layer rules of layers.config.js hold for every import of src/, and docs/architecture.md
// shows them as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkLayers, importsOf, withRulesTable } from '../../scripts/layer-rules.js';

test('every import of src/ keeps the layer rules', () => {
  assert.deepEqual(checkLayers(), []);
});

test('docs/architecture.md shows the rules of layers.config.js (npm run layers -- --write-docs)', () => {
  const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
  assert.equal(withRulesTable(doc), doc);
});

test('an import against the rules is found, with where it is and why it is refused', () => {
  const problems = checkLayers({
    'src/ui/view.ts': "import { html } from 'lit';\nimport { MemoryStorageAdapter } from '../store/memory-storage-adapter.js';\n",
    'src/ui/typed.ts': "import type { NodeId } from '../crdt/dot.js';\nimport { type Dot, type Seq } from '../crdt/dot.js';\n",
    'src/ui/valued.ts': "import { VersionVector } from '../crdt/index.js';\n",
    'src/sync/engine.ts': "export { thing } from '../store/index.js';\nconst lazy = () => import('../node/index.js');\n// import { x } from '../ui/nothing.js';\n",
    'src/crdt/clock.ts': "/** @typedef {import('../domain/index.js').Model} Model */\n",
    'src/elsewhere/file.ts': '',
    'signaling/hub.js': "import { ErrorCode } from '../src/protocol/signaling-protocol.js';\nimport { VersionVector } from '../src/crdt/index.js';\n",
  });
  assert.deepEqual(problems, [
    'src/ui/view.ts:2: ui may not import store: ../store/memory-storage-adapter.js',
    'src/ui/valued.ts:1: ui may not import crdt (ui may import only types from crdt): ../crdt/index.js',
    'src/sync/engine.ts:1: sync may not import store: ../store/index.js',
    'src/sync/engine.ts:2: sync may not import node: ../node/index.js',
    'src/crdt/clock.ts:1: crdt may not import domain: ../domain/index.js',
    'src/elsewhere/file.ts: src/elsewhere/ is no layer of layers.config.js',
    'signaling/hub.js:2: the server may import only src/protocol/ and src/util/ of src/: ../src/crdt/index.js',
    // The exceptions of layers.config.js name files this set does not hold: each is reported stale.
    ...checkLayers({}).filter((problem) => problem.startsWith('layers.config.js')),
  ]);
});

test('an exception lets its one import through, and is reported once nothing needs it', () => {
  const exception = { from: 'src/ui/view.ts', to: 'store', why: 'for the test' };
  const importing = { 'src/ui/view.ts': "import { MemoryStorageAdapter } from '../store/memory-storage-adapter.js';\n" };
  assert.deepEqual(checkLayers(importing, [exception]), []);
  assert.deepEqual(checkLayers({ 'src/ui/view.ts': '' }, [exception]), ['layers.config.js: the exception src/ui/view.ts → store no longer applies; remove it']);
});

test('imports are read from statements, re-exports and dynamic imports, across lines, and not from comments', () => {
  assert.deepEqual(
    importsOf("import {\n  a,\n  b,\n} from './a.js';\nimport type { T } from '../t.js';\nexport * from './all.js';\nimport './side-effect.js';\n// import { no } from './no.js';\n"),
    [
      { line: 1, specifier: './a.js', typeOnly: false },
      { line: 5, specifier: '../t.js', typeOnly: true },
      { line: 6, specifier: './all.js', typeOnly: false },
      { line: 7, specifier: './side-effect.js', typeOnly: false },
    ],
  );
});
