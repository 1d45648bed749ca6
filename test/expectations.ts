import { expect } from 'chai';
import type { VersionVector } from '../src/crdt/index.js';

/** Asserts two version vectors are equal; a failure shows both, entry by entry. */
export function expectSameVersion(actual: VersionVector, expected: VersionVector, label?: string): void {
  if (actual.equals(expected)) return;
  expect(actual.toJSON(), label ?? 'version').to.deep.equal(expected.toJSON());
  // Equal entries yet `equals` says no (an entry of 0 on one side only): say so.
  expect.fail(`${label ?? 'version'}: ${JSON.stringify(actual.toJSON())} does not equal ${JSON.stringify(expected.toJSON())}`);
}

/** Asserts two byte arrays are equal; a failure gives the lengths and the first differing byte. */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, label?: string): void {
  const length = Math.min(actual.length, expected.length);
  let first = 0;
  while (first < length && actual[first] === expected[first]) first++;
  if (first === length && actual.length === expected.length) return;
  expect.fail(
    `${label ? `${label}: ` : ''}${actual.length} bytes against ${expected.length}, first difference at byte ${first}` +
      (first < length ? ` (${actual[first]} instead of ${expected[first]})` : ''),
  );
}

/** Asserts some item satisfies `predicate`; a failure lists the items. */
export function expectSome<T>(items: Iterable<T>, predicate: (item: T) => boolean, label = 'an item that matches'): void {
  const list = [...items];
  if (!list.some(predicate)) expect.fail(`expected ${label} among ${preview(list)}`);
}

/** Asserts no item satisfies `predicate`; a failure names the first that does. */
export function expectNone<T>(items: Iterable<T>, predicate: (item: T) => boolean, label = 'no item that matches'): void {
  const found = [...items].find(predicate);
  if (found !== undefined) expect.fail(`expected ${label}, found ${preview([found])}`);
}

/** Asserts every item satisfies `predicate`; a failure names the first that does not. */
export function expectEvery<T>(items: Iterable<T>, predicate: (item: T) => boolean, label = 'every item to match'): void {
  const list = [...items];
  const index = list.findIndex((item) => !predicate(item));
  if (index !== -1) expect.fail(`expected ${label}; item ${index} of ${list.length} does not: ${preview([list[index]])}`);
}

function preview(items: readonly unknown[]): string {
  const text = JSON.stringify(items, (_key, value: unknown) => (value instanceof Uint8Array ? `<${value.length} bytes>` : typeof value === 'bigint' ? String(value) : value));
  return text === undefined ? String(items) : text.length > 600 ? `${text.slice(0, 600)}… (${items.length} items)` : text;
}
