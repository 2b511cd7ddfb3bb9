import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy, compilePermissions, can } from './index.ts';

const roles = {
  admin: ['*'],
  customer: ['books:read', 'orders:create', 'orders:read:own'],
  staff: ['books:read', 'books:write', 'orders:*'],
  auditor: ['orders:*:own'],
};

describe('policy can()', () => {
  const policy = compilePolicy(roles);
  const cases: Array<[name: string, roles: string[], required: string, context: { subject?: string; ownerId?: string } | undefined, allow: boolean, reason: string]> = [
    ['ok: exact grant', ['customer'], 'books:read', undefined, true, 'granted'],
    ['ok: star grants everything', ['admin'], 'pki:certs:revoke', undefined, true, 'granted'],
    ['ok: trailing wildcard covers one segment', ['staff'], 'orders:update', undefined, true, 'granted'],
    ['ok: trailing wildcard covers deeper segments', ['staff'], 'orders:read:own', undefined, true, 'granted'],
    ['ok: unconditional read implies own', ['staff'], 'orders:read', { subject: 'a', ownerId: 'b' }, true, 'granted'],
    ['ok: own grant with matching owner', ['customer'], 'orders:read', { subject: 'u1', ownerId: 'u1' }, true, 'granted_owner'],
    ['ok: asking for :own explicitly', ['customer'], 'orders:read:own', { subject: 'u1', ownerId: 'u1' }, true, 'granted_owner'],
    ['ok: middle wildcard with own', ['auditor'], 'orders:refund', { subject: 'x', ownerId: 'x' }, true, 'granted_owner'],
    ['ok: union of roles', ['customer', 'staff'], 'books:write', undefined, true, 'granted'],
    ['fail-not-owner: own grant, other owner', ['customer'], 'orders:read', { subject: 'u1', ownerId: 'u2' }, false, 'not_owner'],
    ['fail-not-owner: own grant, no context', ['customer'], 'orders:read:own', undefined, false, 'not_owner'],
    ['fail-not-owner: own grant, owner missing', ['customer'], 'orders:read', { subject: 'u1' }, false, 'not_owner'],
    ['fail-not-granted: other resource', ['customer'], 'books:write', undefined, false, 'not_granted'],
    ['fail-not-granted: grants below do not cover the bare prefix', ['staff'], 'books', undefined, false, 'not_granted'],
    ['fail-not-granted: prefix is not a grant', ['customer'], 'books:read:all', undefined, false, 'not_granted'],
    ['fail-not-granted: unknown role', ['ghost'], 'books:read', undefined, false, 'not_granted'],
    ['fail-not-granted: no roles', [], 'books:read', undefined, false, 'not_granted'],
    ['fail-not-granted: own does not imply unconditional create', ['customer'], 'orders:update', { subject: 'u', ownerId: 'u' }, false, 'not_granted'],
  ];
  for (const [name, granted, required, context, allow, reason] of cases) {
    test(name, () => {
      const decision = can(policy.permissionsFor(granted), required, context);
      assert.equal(decision.allow, allow);
      assert.equal(decision.reason, reason);
    });
  }

  test('fail-misuse: a wildcard as the required permission is a TypeError', () => {
    assert.throws(() => can(compilePermissions(['*']), 'orders:*'), TypeError);
    assert.throws(() => can(compilePermissions(['*']), ''), TypeError);
  });

  test('ok: decide() is can() over the roles', () => {
    assert.deepEqual(policy.decide(['customer'], 'orders:create'), { allow: true, reason: 'granted', permission: 'orders:create' });
  });

  test('ok: permissionsFor is compiled once per role combination', () => {
    assert.equal(policy.permissionsFor(['staff', 'customer']), policy.permissionsFor(['customer', 'staff']));
  });
});

describe('policy version', () => {
  test('ok: same content, same version, whatever the order', () => {
    const a = compilePolicy({ b: ['x:y', 'a:b'], a: ['c:d'] });
    const b = compilePolicy({ a: ['c:d'], b: ['a:b', 'x:y', 'a:b'] });
    assert.equal(a.version, b.version);
    assert.equal(a.etag, `"${a.version}"`);
    assert.deepEqual(a.document, { version: a.version, roles: { a: ['c:d'], b: ['a:b', 'x:y'] } });
  });

  test('ok: changed content, changed version', () => {
    assert.notEqual(compilePolicy({ a: ['c:d'] }).version, compilePolicy({ a: ['c:e'] }).version);
  });

  test('ok: a fetched document compiles to the same version', () => {
    const server = compilePolicy(roles);
    assert.equal(compilePolicy(server.document.roles).version, server.version);
  });
});
