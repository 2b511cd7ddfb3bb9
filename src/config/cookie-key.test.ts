/** Cookie keys shorter than 32 bytes are refused, whatever their encoding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cookieKeyBytes, validateCookieKey } from './cookie-key.ts';

test('ok: 32 random bytes in base64url, base64 (padded) or as 32+ plain characters pass', () => {
  const bytes = randomBytes(32);
  for (const key of [bytes.toString('base64url'), bytes.toString('base64'), 'this is a long passphrase; 32 ch!'] ) {
    assert.equal(validateCookieKey(key), key);
  }
  assert.equal(cookieKeyBytes(randomBytes(48).toString('base64url')), 48);
});

test('fail-short: fewer than 32 bytes is refused with a message naming the variable, never the key', () => {
  for (const key of ['secret', randomBytes(31).toString('base64url'), 'short key with spaces!', 'x'.repeat(40)]) {
    assert.throws(() => validateCookieKey(key), (error: Error) => /GATEHOUSE_COOKIE_KEY/.test(error.message) && /at least 32 bytes/.test(error.message) && !error.message.includes(key));
  }
});
