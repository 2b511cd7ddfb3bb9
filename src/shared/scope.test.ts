import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatScope, parseScope, scopeIncludes } from './scope.ts';

test('ok: parseScope splits on spaces and drops empty entries', () => {
  assert.deepEqual(parseScope(' openid  books:read '), ['openid', 'books:read']);
  assert.deepEqual(parseScope(undefined), []);
  assert.deepEqual(parseScope(''), []);
});

test('fail-prefix: scopeIncludes matches whole tokens, case-sensitively', () => {
  assert.equal(scopeIncludes('admin:read books:read', 'admin'), false);
  assert.equal(scopeIncludes('Admin', 'admin'), false);
  assert.equal(scopeIncludes('openid admin', 'admin'), true);
});

test('ok: formatScope keeps each token once, in order', () => {
  assert.equal(formatScope(parseScope('b a  b c a')), 'b a c');
});
