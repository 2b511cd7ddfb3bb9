import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicApiToken, bearerApiToken } from './authenticator.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

test('ok: Bearer gth_… in any case of the scheme, spaces after it tolerated', () => {
  assert.equal(bearerApiToken('Bearer gth_abc'), 'gth_abc');
  assert.equal(bearerApiToken('bearer   gth_abc'), 'gth_abc');
});

test('ok: not mine: a JWT, another scheme, an empty bearer', () => {
  assert.equal(bearerApiToken('Bearer eyJhbGciOi'), undefined);
  assert.equal(bearerApiToken(`Basic ${b64('u:gth_abc')}`), undefined);
  assert.equal(bearerApiToken('Bearer '), undefined);
  assert.equal(bearerApiToken('Bearergth_abc'), undefined);
});

test('ok: Basic with a gth_ password, any user name (also empty or with colons in the password)', () => {
  assert.equal(basicApiToken(`Basic ${b64('alice:gth_abc')}`), 'gth_abc');
  assert.equal(basicApiToken(`basic ${b64(':gth_abc')}`), 'gth_abc');
  assert.equal(basicApiToken(`BASIC ${b64('x:gth_a:b')}`), 'gth_a:b');
});

test('ok: not mine: Basic with another password, without a colon, or another scheme', () => {
  assert.equal(basicApiToken(`Basic ${b64('alice:secret')}`), undefined);
  assert.equal(basicApiToken(`Basic ${b64('gth_abc')}`), undefined);
  assert.equal(basicApiToken(`Basicx ${b64('u:gth_abc')}`), undefined);
  assert.equal(basicApiToken('Bearer gth_abc'), undefined);
  assert.equal(basicApiToken('Basic '), undefined);
});
