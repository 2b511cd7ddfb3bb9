import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { API_TOKEN_LENGTH, API_TOKEN_PATTERN, generateApiToken, tokenShapeProblem, apiTokenChecksum } from './api-token-format.ts';

test('ok: a generated token matches the scanner pattern and passes its own checksum', () => {
  const token = generateApiToken();
  assert.equal(token.length, API_TOKEN_LENGTH);
  assert.match(token, API_TOKEN_PATTERN);
  assert.equal(tokenShapeProblem(token), undefined);
  assert.notEqual(generateApiToken(), token);
});

test('ok: the checksum is CRC32 of prefix + body in 6 big-endian base62 digits', () => {
  // crc32('gth_') written out by hand: a fixed vector the Security Service side can check too.
  const value = crc32('gth_');
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let expected = '';
  for (let rest = value, i = 0; i < 6; i++, rest = Math.floor(rest / 62)) expected = alphabet[rest % 62] + expected;
  assert.equal(apiTokenChecksum('gth_'), expected);
  assert.equal(apiTokenChecksum('gth_').length, 6);
});

test('fail-checksum: one changed character is refused offline as checksum_mismatch', () => {
  const token = generateApiToken();
  const typo = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
  assert.equal(tokenShapeProblem(typo), 'checksum_mismatch');
});

test('fail-malformed: wrong prefix, truncated, too long or outside the alphabet is malformed', () => {
  const token = generateApiToken();
  for (const bad of [token.slice(0, -1), `${token}A`, `ghp_${token.slice(4)}`, `${token.slice(0, 10)}-${token.slice(11)}`, '', 'gth_']) {
    assert.equal(tokenShapeProblem(bad), 'malformed', bad);
  }
});
