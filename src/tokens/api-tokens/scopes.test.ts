import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scopeOverlaps, scopesNotHeld } from './scopes.ts';

const customer = ['books:read', 'orders:create', 'orders:read:own'];

test('ok: a scope overlapping a permission exactly, through :own, or through a wildcard', () => {
  assert.ok(scopeOverlaps('books:read', 'books:read'));
  assert.ok(scopeOverlaps('orders:read', 'orders:read:own'), 'orders:read covers orders:read:own');
  assert.ok(scopeOverlaps('orders:read:own', 'orders:read'), 'orders:read implies orders:read:own');
  assert.ok(scopeOverlaps('orders:*', 'orders:read:own'));
  assert.ok(scopeOverlaps('orders:read', 'orders:*'), 'the owner holds orders:*');
  assert.ok(scopeOverlaps('orders:read', '*'));
  assert.ok(scopeOverlaps('*', 'books:read'));
  assert.ok(scopeOverlaps('orders:*:own', 'orders:read'));
});

test('fail-no-overlap: different actions or resources', () => {
  assert.ok(!scopeOverlaps('orders:refund', 'orders:read:own'));
  assert.ok(!scopeOverlaps('catalog:write', 'books:read'));
  assert.ok(!scopeOverlaps('orders', 'orders:read'), 'a bare resource is not an action');
  assert.ok(!scopeOverlaps('orders:read:own', 'orders:create'));
  assert.ok(!scopeOverlaps('orders:*', 'books'), 'a trailing * needs its prefix');
});

test('ok: scopesNotHeld lists exactly the scopes granting nothing to the owner', () => {
  assert.deepEqual(scopesNotHeld(['orders:read', 'books:read'], customer), []);
  assert.deepEqual(scopesNotHeld(['orders:read', 'orders:refund', 'catalog:write'], customer), ['orders:refund', 'catalog:write']);
  assert.deepEqual(scopesNotHeld(['books:read'], []), ['books:read']);
});
