// Checks every import of src/ against layers.config.js, and keeps docs/architecture.md's table of
// the rules in step with it.
//   node scripts/layer-rules.js               lists what breaks the rules (exit 1 if anything)
//   node scripts/layer-rules.js --write-docs  rewrites the table in docs/architecture.md
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exceptions, layers, server } from '../layers.config.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(root, 'docs', 'architecture.md');
const BEGIN = '<!-- layer rules: generated from layers.config.js by `npm run layers -- --write-docs` -->';
const END = '<!-- end of layer rules -->';

/** @typedef {{ file: string, line: number, specifier: string, typeOnly: boolean }} Import */

/**
 * The relative imports of one file's text: static imports and re-exports (with whether they are
 * type-only) and dynamic `import('…')`. Comments are skipped line by line; imports in template
 * strings are not code and are not read.
 * @param {string} text
 * @returns {Array<{ line: number, specifier: string, typeOnly: boolean }>}
 */
export function importsOf(text) {
  const found = [];
  const statement = /(^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"](\.{1,2}\/[^'"]+)['"]|(^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const match of text.matchAll(statement)) {
    const specifier = match[5] ?? match[7] ?? match[8];
    if (!specifier) continue;
    const at = match.index + (match[1]?.length ?? match[6]?.length ?? 0);
    const before = text.slice(0, at);
    const lineText = text.slice(before.lastIndexOf('\n') + 1, at);
    const inComment = /^\s*(\/\/|\/?\*)/.test(lineText);
    // In a comment, only a JSDoc type (`{import('…').Name}`) is a dependency, and a type-only one.
    if (inComment && !match[8]) continue;
    const names = match[4] ?? '';
    // `import type {…}` or every name marked `type` (`import { type A, type B }`).
    const allTyped = names.startsWith('{') && names.slice(1, -1).split(',').map((name) => name.trim()).filter(Boolean).every((name) => name.startsWith('type '));
    found.push({ line: before.split('\n').length, specifier, typeOnly: inComment || Boolean(match[3]) || allTyped });
  }
  return found;
}

/** Every .ts/.js file under `dir`, as paths relative to the repository. @param {string} dir @returns {string[]} */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [relative(root, path)] : [];
  });
}

/**
 * What breaks the rules: imports from one layer into another it may not use (or only for types),
 * imports of folders that are no layer, stale or missing exceptions.
 * @param {Record<string, string>} [files] path → text; default: src/ on disk
 * @param {ReadonlyArray<{ from: string, to: string, why: string }>} [permitted] the exceptions; default: layers.config.js's
 * @returns {string[]}
 */
export function checkLayers(files = Object.fromEntries([...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'signaling'))].map((path) => [path, readFileSync(join(root, path), 'utf8')])), permitted = exceptions) {
  const problems = [];
  const seen = new Set();
  for (const [path, text] of Object.entries(files)) {
    if (path.startsWith('signaling/')) {
      problems.push(...serverProblems(path, text));
      continue;
    }
    const from = path.split('/')[1];
    if (!from || !(from in layers)) {
      problems.push(`${path}: src/${from}/ is no layer of layers.config.js`);
      continue;
    }
    for (const { line, specifier, typeOnly } of importsOf(text)) {
      const target = relative(join(root, 'src'), resolve(join(root, dirname(path)), specifier)).split('/')[0];
      if (target === from) continue;
      if (!target || target.startsWith('..')) {
        problems.push(`${path}:${line}: imports ${specifier}, outside src/`);
        continue;
      }
      const rule = layers[from];
      const allowed = rule.imports.includes(target) || (typeOnly && (rule.types ?? []).includes(target));
      if (allowed) continue;
      const exception = permitted.find((candidate) => candidate.from === path && candidate.to === target);
      if (exception) {
        seen.add(exception);
        continue;
      }
      const typesOnly = (rule.types ?? []).includes(target) ? ` (${from} may import only types from ${target})` : '';
      problems.push(`${path}:${line}: ${from} may not import ${target}${typesOnly}: ${specifier}`);
    }
  }
  for (const exception of permitted) if (!seen.has(exception)) problems.push(`layers.config.js: the exception ${exception.from} → ${exception.to} no longer applies; remove it`);
  return problems;
}

/**
 * The signaling server runs in Node without a build: of src/ it may use only the layers written
 * in plain JavaScript for both ends (`server` in layers.config.js).
 * @param {string} path
 * @param {string} text
 */
function serverProblems(path, text) {
  return importsOf(text).flatMap(({ line, specifier }) => {
    const target = relative(root, resolve(join(root, dirname(path)), specifier)).split('/');
    if (target[0] !== 'src') return [];
    return server.includes(target[1] ?? '') ? [] : [`${path}:${line}: the server may import only ${server.map((layer) => `src/${layer}/`).join(' and ')} of src/: ${specifier}`];
  });
}

/** The rules as a Markdown table. */
export function rulesTable() {
  const rows = Object.entries(layers).map(([name, rule]) => {
    const types = rule.types?.length ? `; types only: ${rule.types.map((layer) => `\`${layer}\``).join(', ')}` : '';
    const imports = rule.imports.length ? rule.imports.map((layer) => `\`${layer}\``).join(', ') : 'nothing of the project';
    return `| \`${name}/\` | ${imports}${types} | ${rule.why} |`;
  });
  return [BEGIN, '| layer | may import | what it is |', '| --- | --- | --- |', ...rows, END].join('\n');
}

/** docs/architecture.md with its table of rules replaced by the current one. @param {string} doc */
export function withRulesTable(doc) {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md has no table of layer rules between "${BEGIN}" and "${END}"`);
  return doc.slice(0, start) + rulesTable() + doc.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write-docs')) {
    writeFileSync(DOC, withRulesTable(readFileSync(DOC, 'utf8')));
    console.log('docs/architecture.md: table of layer rules rewritten');
  }
  const problems = checkLayers();
  for (const problem of problems) console.log(problem);
  console.log(problems.length ? `${problems.length} import(s) break the layer rules` : 'every import keeps the layer rules');
  process.exitCode = problems.length ? 1 : 0;
}
