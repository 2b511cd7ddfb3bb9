import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usernameBase, usernameCandidates } from './usernames.ts';

test('ok: a claim is made a valid username', () => {
  assert.equal(usernameBase('José Müller', undefined, 'corp'), 'Jose-Muller');
  assert.equal(usernameBase(undefined, 'carol@example.com', 'corp'), 'carol');
  assert.equal(usernameBase('x', undefined, 'corp'), 'corp-x');
  assert.equal(usernameBase(undefined, undefined, 'gh'), 'gh-user');
  assert.match(usernameBase('a'.repeat(100), undefined, 'corp'), /^a{56}$/);
});

test('ok: candidates go base, base-2 … base-9, then random', () => {
  const it = usernameCandidates('carol');
  const first = Array.from({ length: 10 }, () => it.next().value);
  assert.deepEqual(first.slice(0, 9), ['carol', 'carol-2', 'carol-3', 'carol-4', 'carol-5', 'carol-6', 'carol-7', 'carol-8', 'carol-9']);
  assert.match(first[9]!, /^carol-[0-9a-f]{6}$/);
});
