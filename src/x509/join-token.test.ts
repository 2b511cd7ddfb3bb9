import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJoinToken, parseJoinToken } from './join-token.ts';

const id = '0123456789abcdef';
const secret = 'A'.repeat(43);
const fingerprint = 'ab'.repeat(32);

test('ok: a formatted token parses back into its parts', () => {
  assert.deepEqual(parseJoinToken(formatJoinToken(id, secret, fingerprint)), { id, secret, rootFingerprint: fingerprint });
});

const malformed: Array<[string, string]> = [
  ['wrong-prefix', `ghxx.${id}.${secret}.${fingerprint}`],
  ['short-id', `ghjt.0123.${secret}.${fingerprint}`],
  ['short-secret', `ghjt.${id}.${'A'.repeat(42)}.${fingerprint}`],
  ['upper-case-fingerprint', `ghjt.${id}.${secret}.${fingerprint.toUpperCase()}`],
  ['missing-fingerprint', `ghjt.${id}.${secret}`],
  ['trailing-data', `ghjt.${id}.${secret}.${fingerprint}.x`],
  ['newline', `ghjt.${id}.${secret}.${fingerprint}\n`],
];
for (const [name, token] of malformed) {
  test(`fail-${name}: not a join token`, () => assert.equal(parseJoinToken(token), undefined));
}
