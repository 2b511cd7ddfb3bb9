/** The cookie signer makes and accepts exactly what keygrip (Koa's default) does, so no signed cookie changes meaning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Keygrip from 'keygrip';
import { createCookieSigner } from './cookie-signer.ts';

const keys = ['newest-cookie-key-0123456789abcdef', 'older-cookie-key-fedcba9876543210'];
const data = '_interaction=Y2Y0ZTk2YzQtM2E0Zi00NTk3LWE1ZGYtMGQ3ZTBjNjU3NmYx';

test('ok: signatures are keygrip\'s, by the first key', () => {
  const signer = createCookieSigner(keys);
  for (const value of [data, '', 'a=b', '_session=ü/+=?']) assert.equal(signer.sign(value), new Keygrip(keys).sign(value));
});

test('ok: index says which key signed, as keygrip does (> 0 makes Koa re-sign with the first)', () => {
  const signer = createCookieSigner(keys);
  const grip = new Keygrip(keys);
  const byOlder = new Keygrip([keys[1]!]).sign(data);
  assert.equal(signer.index(data, grip.sign(data)), 0);
  assert.equal(signer.index(data, byOlder), 1);
  assert.equal(grip.index(data, byOlder), 1);
  assert.equal(signer.verify(data, byOlder), true);
});

test('fail-signature: another value, a truncated or foreign signature is not accepted', () => {
  const signer = createCookieSigner(keys);
  const signature = signer.sign(data);
  assert.equal(signer.index(`${data}x`, signature), -1);
  assert.equal(signer.index(data, signature.slice(0, -1)), -1);
  assert.equal(signer.index(data, new Keygrip(['someone-else']).sign(data)), -1);
  assert.equal(signer.verify(data, ''), false);
});

test('fail-no-keys: refused at start', () => {
  assert.throws(() => createCookieSigner([]), TypeError);
});
