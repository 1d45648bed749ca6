import test from 'node:test';
import assert from 'node:assert/strict';
test('node runs', () => assert.equal(1, 1));
