import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { seal, unseal, sealedKeyId, masterKeyId } from './sealed.ts';

const key = randomBytes(32);

test('ok: a sealed value opens with the same key and context', () => {
  assert.equal(unseal(key, seal(key, 'PRIVATE', 'ca-1'), 'ca-1'), 'PRIVATE');
});

test('fail-context: a sealed value moved to another row does not open', () => {
  assert.throws(() => unseal(key, seal(key, 'PRIVATE', 'ca-1'), 'ca-2'), /wrong master key|tampered/);
});

test('fail-tampered: a changed ciphertext does not open', () => {
  const [version, id, iv, tag, ciphertext] = seal(key, 'PRIVATE', 'ca-1').split('.');
  const flipped = Buffer.from(ciphertext!, 'base64url');
  flipped[0]! ^= 1;
  assert.throws(() => unseal(key, [version, id, iv, tag, flipped.toString('base64url')].join('.'), 'ca-1'), /tampered/);
});

// GCM accepts a prefix of the real tag as valid unless the tag length is pinned: unseal checks the
// length before deciphering, so a truncated tag is a format error, never a decryption attempt.
for (const bytes of [12, 8, 4]) {
  test(`fail-short-tag: a tag truncated to ${bytes} bytes is refused as an unknown format`, () => {
    const [version, id, iv, tag, ciphertext] = seal(key, 'PRIVATE', 'ca-1').split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, bytes).toString('base64url');
    assert.throws(() => unseal(key, [version, id, iv, short, ciphertext].join('.'), 'ca-1'), /unknown format/);
  });
}

test('ok: a sealed value names the master key that sealed it (an id, not the key)', () => {
  const sealed = seal(key, 'PRIVATE', 'ca-1');
  assert.equal(sealedKeyId(sealed), masterKeyId(key));
  assert.match(masterKeyId(key), /^[0-9a-f]{16}$/);
  assert.notEqual(masterKeyId(randomBytes(32)), masterKeyId(key));
  assert.ok(!sealed.includes(key.toString('base64url')) && !sealed.includes(key.toString('hex')));
});

test('fail-other-master-key: the error names the id it was sealed under and the current one', () => {
  const other = randomBytes(32);
  assert.throws(() => unseal(other, seal(key, 'PRIVATE', 'ca-1'), 'ca-1'), (error: Error) =>
    error.message.startsWith('cannot decrypt a stored private key: wrong master key') && error.message.includes(masterKeyId(key)) && error.message.includes(masterKeyId(other)) && error.message.includes('secrets rekey'));
});

/** The v1 format, as sealed before key ids: `v1.<iv>.<tag>.<ciphertext>`. */
function sealV1(masterKey: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

test('ok: a value in the v1 format (no key id) still opens; it has no key id', () => {
  const old = sealV1(key, 'PRIVATE', 'ca-1');
  assert.equal(unseal(key, old, 'ca-1'), 'PRIVATE');
  assert.equal(sealedKeyId(old), undefined);
  assert.throws(() => unseal(randomBytes(32), old, 'ca-1'), /wrong master key/);
});

for (const [name, value] of [['unknown-version', 'v3.a.b.c'], ['v2-bad-id', `v2.XYZ.${'a'.repeat(16)}.b.c`], ['v1-extra-part', 'v1.a.b.c.d']] as const) {
  test(`fail-${name}: an unknown format is refused as such`, () => {
    assert.throws(() => unseal(key, value, 'ca-1'), /unknown format/);
  });
}
