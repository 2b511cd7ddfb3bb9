import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimAt, rolesFromClaims } from './role-rules.ts';

const rules = [
  { claim: 'groups', contains: 'admins', role: 'staff' },
  { claim: 'realm_access.roles', contains: 'ops', role: 'admin' },
  { claim: 'org', equals: 'acme', role: 'customer' },
];

test('ok: contains matches a list member, equals a value, a dotted path a nested member', () => {
  assert.deepEqual(rolesFromClaims(rules, { groups: ['users', 'admins'], realm_access: { roles: ['ops'] }, org: 'acme' }), ['admin', 'customer', 'staff']);
});

test('ok: contains matches a word of a space-separated string', () => {
  assert.deepEqual(rolesFromClaims(rules, { groups: 'users admins' }), ['staff']);
});

test('fail-no-match: near misses give no role', () => {
  assert.deepEqual(rolesFromClaims(rules, { groups: ['administrators'], realm_access: 'ops', org: 'ACME' }), []);
  assert.deepEqual(rolesFromClaims(rules, { groups: 'admin' }), []);
});

test('ok: claimAt does not walk the prototype', () => {
  assert.equal(claimAt({}, 'constructor.name'), undefined);
});
