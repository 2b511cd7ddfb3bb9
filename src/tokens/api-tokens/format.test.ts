import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_TOKEN_LENGTH, API_TOKEN_PATTERN, RANDOM_LENGTH, generateApiToken, generateTokenId, tokenDigest, tokenShapeProblem } from './format.ts';

test('ok: a token is gth_ + 30 base62 random characters (≥ 160 bits) + a 6-character checksum', () => {
  const token = generateApiToken();
  assert.equal(token.length, API_TOKEN_LENGTH);
  assert.ok(token.startsWith('gth_'));
  assert.match(token, API_TOKEN_PATTERN);
  assert.ok(RANDOM_LENGTH * Math.log2(62) >= 160);
  assert.equal(tokenShapeProblem(token), undefined);
});

test('ok: tokens and ids are distinct draws; the id is not part of the token', () => {
  const tokens = new Set(Array.from({ length: 200 }, generateApiToken));
  assert.equal(tokens.size, 200);
  const id = generateTokenId();
  assert.match(id, /^[0-9A-Za-z]{12}$/);
  assert.ok(![...tokens].some((t) => t.includes(id)));
});

test('ok: every base62 character shows up in the random part (no skewed alphabet)', () => {
  const seen = new Set(Array.from({ length: 200 }, generateApiToken).flatMap((t) => [...t.slice(4, 4 + RANDOM_LENGTH)]));
  assert.equal(seen.size, 62);
});

test('fail-checksum: any one-character typo in the random part is caught offline', () => {
  const token = generateApiToken();
  for (let i = 4; i < 4 + RANDOM_LENGTH; i++) {
    const typo = token.slice(0, i) + (token[i] === 'x' ? 'y' : 'x') + token.slice(i + 1);
    assert.equal(tokenShapeProblem(typo), 'checksum_mismatch', `typo at ${i}`);
  }
  const badSum = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
  assert.equal(tokenShapeProblem(badSum), 'checksum_mismatch');
});

test('fail-malformed: wrong prefix, truncated, too long, foreign characters', () => {
  const token = generateApiToken();
  for (const bad of ['ghp_' + token.slice(4), token.slice(0, -1), token + 'A', token.slice(0, 10) + '-' + token.slice(11), '', 'gth_']) {
    assert.equal(tokenShapeProblem(bad), 'malformed', bad);
  }
});

test('ok: the digest is SHA-256 hex of the whole token', () => {
  const token = generateApiToken();
  assert.match(tokenDigest(token), /^[0-9a-f]{64}$/);
  assert.notEqual(tokenDigest(token), tokenDigest(generateApiToken()));
});
