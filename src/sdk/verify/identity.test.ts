import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../policy/compile.ts';
import { toIdentity } from './identity.ts';
import type { AccessClaims } from './token-checks.ts';

const policy = compilePolicy({
  customer: ['books:read', 'orders:create', 'orders:read:own'],
  staff: ['books:read', 'orders:read', 'orders:update'],
  admin: ['*'],
});

function claims(over: { roles: string[]; scope?: string; scopeBound?: boolean }): AccessClaims {
  const payload: Record<string, unknown> = { sub: 'alice', client_id: 'gateway', jti: 'j1', iat: 1, exp: 2, roles: over.roles, scope: over.scope };
  if (over.scopeBound !== undefined) payload.scope_bound = over.scopeBound;
  return { sub: 'alice', client_id: 'gateway', jti: 'j1', iat: 1, exp: 2, roles: over.roles, scope: over.scope, sid: undefined, payload };
}

test('ok: a scope-bound token with orders:read for a customer (orders:read:own) reads only her own orders', () => {
  const identity = toIdentity(claims({ roles: ['customer'], scope: 'orders:read', scopeBound: true }), policy);
  assert.equal(identity.scopeBound, true);
  assert.equal(identity.can('orders:read', { ownerId: 'alice' }), true);
  assert.equal(identity.decide('orders:read', { ownerId: 'bob' }).reason, 'not_owner');
  assert.equal(identity.can('orders:read'), false);
  assert.deepEqual(identity.permissions, ['orders:read:own']);
});

test('fail-not-in-scope: a scope-bound token cannot use a role permission its scopes do not cover', () => {
  const identity = toIdentity(claims({ roles: ['customer'], scope: 'orders:read', scopeBound: true }), policy);
  const decision = identity.decide('orders:create');
  assert.equal(decision.allow, false);
  assert.equal(decision.reason, 'not_granted');
  assert.equal(identity.can('books:read'), false);
});

test('fail-not-granted: a scope the owner\'s roles do not grant gives nothing', () => {
  const identity = toIdentity(claims({ roles: ['customer'], scope: 'orders:update orders:read', scopeBound: true }), policy);
  assert.equal(identity.can('orders:update'), false);
  assert.deepEqual(identity.permissions, ['orders:read:own']);
});

test('ok: a wildcard role is narrowed to the scopes; a wildcard scope to the roles', () => {
  const admin = toIdentity(claims({ roles: ['admin'], scope: 'openid orders:*', scopeBound: true }), policy);
  assert.equal(admin.can('orders:refund'), true);
  assert.equal(admin.can('books:write'), false);
  assert.deepEqual(admin.permissions, ['orders:*']);
  const staff = toIdentity(claims({ roles: ['staff'], scope: 'orders:*', scopeBound: true }), policy);
  assert.equal(staff.can('orders:update'), true);
  assert.equal(staff.can('orders:create'), false);
  assert.deepEqual(staff.permissions, ['orders:read', 'orders:update']);
});

test('ok: an :own scope narrows an unconditional role permission to the owner', () => {
  const identity = toIdentity(claims({ roles: ['staff'], scope: 'orders:read:own', scopeBound: true }), policy);
  assert.equal(identity.can('orders:read', { ownerId: 'alice' }), true);
  assert.equal(identity.decide('orders:read', { ownerId: 'bob' }).reason, 'not_owner');
  assert.deepEqual(identity.permissions, ['orders:read:own']);
});

test('ok: without scope_bound (or with it not exactly true) the roles alone decide, as before', () => {
  for (const scopeBound of [undefined, false]) {
    const identity = toIdentity(claims({ roles: ['customer'], scope: 'orders:read', ...(scopeBound === undefined ? {} : { scopeBound }) }), policy);
    assert.equal(identity.scopeBound, false);
    assert.equal(identity.can('orders:create'), true);
    assert.deepEqual(identity.permissions, ['books:read', 'orders:create', 'orders:read:own']);
  }
});
