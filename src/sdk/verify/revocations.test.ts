import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRevocationList } from './revocations.ts';
import type { TokensRevoked } from '../../shared/security-events.ts';

const token = (over: Partial<{ tokenId: string; subject: string; sessionId: string | undefined; issuedAt: number }> = {}) =>
  ({ tokenId: 'j1', subject: 'u1', sessionId: 's1', issuedAt: 100, ...over });
const event = (over: Partial<TokensRevoked> = {}): TokensRevoked =>
  ({ type: 'tokens.revoked', subject: 'u1', tokenIds: [], issuedBefore: 150, until: 1000, reason: 'user_disabled', ...over });

test('ok: a subject-wide revocation denies that subject\'s tokens issued at or before issuedBefore, not later ones', () => {
  const list = createRevocationList(() => 200);
  list.add(event());
  assert.equal(list.denies(token({ issuedAt: 150 })), true);
  assert.equal(list.denies(token({ issuedAt: 151 })), false);
  assert.equal(list.denies(token({ subject: 'u2' })), false);
});

test('ok: a session revocation denies only that session', () => {
  const list = createRevocationList(() => 200);
  list.add(event({ sessionId: 's1', reason: 'logout' }));
  assert.equal(list.denies(token({ sessionId: 's1' })), true);
  assert.equal(list.denies(token({ sessionId: 's2' })), false);
  assert.equal(list.denies(token({ sessionId: undefined })), false);
});

test('ok: issuedBefore 0 denies only the listed jtis', () => {
  const list = createRevocationList(() => 200);
  list.add(event({ issuedBefore: 0, tokenIds: ['j1'], reason: 'revoked_by_client' }));
  assert.equal(list.denies(token({ tokenId: 'j1' })), true);
  assert.equal(list.denies(token({ tokenId: 'j2' })), false);
});

test('ok: entries stop denying after until and are pruned', () => {
  let now = 200;
  const list = createRevocationList(() => now);
  list.add(event({ tokenIds: ['j9'] }));
  assert.equal(list.size(), 2);
  now = 1001;
  assert.equal(list.denies(token()), false);
  list.prune();
  assert.equal(list.size(), 0);
});

test('ok: an event whose until already passed is not kept', () => {
  const list = createRevocationList(() => 2000);
  list.add(event());
  assert.equal(list.size(), 0);
});
