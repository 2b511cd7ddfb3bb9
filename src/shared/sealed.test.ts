import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { seal, unseal } from './sealed.ts';

const key = randomBytes(32);

test('ok: a sealed value opens with the same key and context', () => {
  assert.equal(unseal(key, seal(key, 'PRIVATE', 'ca-1'), 'ca-1'), 'PRIVATE');
});

test('fail-context: a sealed value moved to another row does not open', () => {
  assert.throws(() => unseal(key, seal(key, 'PRIVATE', 'ca-1'), 'ca-2'), /wrong master key|tampered/);
});

test('fail-tampered: a changed ciphertext does not open', () => {
  const [version, iv, tag, ciphertext] = seal(key, 'PRIVATE', 'ca-1').split('.');
  const flipped = Buffer.from(ciphertext!, 'base64url');
  flipped[0]! ^= 1;
  assert.throws(() => unseal(key, [version, iv, tag, flipped.toString('base64url')].join('.'), 'ca-1'), /wrong master key|tampered/);
});

// GCM accepts a prefix of the real tag as valid unless the tag length is pinned: unseal checks the
// length before deciphering, so a truncated tag is a format error, never a decryption attempt.
for (const bytes of [12, 8, 4]) {
  test(`fail-short-tag: a tag truncated to ${bytes} bytes is refused as an unknown format`, () => {
    const [version, iv, tag, ciphertext] = seal(key, 'PRIVATE', 'ca-1').split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, bytes).toString('base64url');
    assert.throws(() => unseal(key, [version, iv, short, ciphertext].join('.'), 'ca-1'), /unknown format/);
  });
}
