import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { configSchema } from '../../config/index.ts';
import { loadBrowserSessionSecrets, parseCookieKeys } from './secrets.ts';

const key = () => randomBytes(32);

describe('browser-session secrets', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-sso-secrets-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = (sso: Record<string, unknown> = {}) => configSchema.parse({ gateway: { sso: { clientId: 'gateway-web', ...sso } } });

  test('ok: base64 and base64url keys, several comma-separated, current first', () => {
    const [a, b] = [key(), key()];
    const keys = parseCookieKeys(` ${a.toString('base64')} , ${b.toString('base64url')} `, 'test');
    assert.deepEqual(keys.map((k) => Buffer.from(k).toString('hex')), [a.toString('hex'), b.toString('hex')]);
  });

  test('fail-short-key: a key that is not 32 bytes is refused; the message names the source, never the key', () => {
    const short = randomBytes(16).toString('base64');
    assert.throws(() => parseCookieKeys(`${key().toString('base64')},${short}`, 'GATEHOUSE_GATEWAY_COOKIE_KEY'), (error: Error) =>
      /GATEHOUSE_GATEWAY_COOKIE_KEY: cookie key 2 must be 32 bytes.*received 16 bytes/.test(error.message) && !error.message.includes(short));
  });

  test('fail-not-base64: text is not a key', () => {
    assert.throws(() => parseCookieKeys('correct horse battery staple, and more words here!!', 'test'), /must be 32 bytes/);
  });

  test('ok: the environment wins over the files', () => {
    const k = key();
    const secrets = loadBrowserSessionSecrets(config({ secretFile: 'missing', cookieKeyFile: 'missing' }), { GATEHOUSE_GATEWAY_SSO_SECRET: 's3cret', GATEHOUSE_GATEWAY_COOKIE_KEY: k.toString('base64') }, dir);
    assert.equal(secrets.clientSecret, 's3cret');
    assert.deepEqual(Buffer.from(secrets.cookieKeys[0]!), k);
  });

  test('ok: files relative to the config folder, one key per line', () => {
    const [a, b] = [key(), key()];
    writeFileSync(join(dir, 'sso.secret'), 'from-file\n', { mode: 0o600 });
    writeFileSync(join(dir, 'cookie.keys'), `${a.toString('base64')}\n${b.toString('base64')}\n`, { mode: 0o600 });
    const secrets = loadBrowserSessionSecrets(config({ secretFile: 'sso.secret', cookieKeyFile: 'cookie.keys' }), {}, dir);
    assert.equal(secrets.clientSecret, 'from-file');
    assert.equal(secrets.cookieKeys.length, 2);
  });

  test('fail-readable-file: a key file others can read is refused', () => {
    writeFileSync(join(dir, 'open.keys'), key().toString('base64'), { mode: 0o644 });
    assert.throws(() => loadBrowserSessionSecrets(config({ cookieKeyFile: 'open.keys' }), { GATEHOUSE_GATEWAY_SSO_SECRET: 'x' }, dir), /chmod 600/);
  });

  test('fail-missing: no secret or no key is a one-line error naming the variable', () => {
    assert.throws(() => loadBrowserSessionSecrets(config(), { GATEHOUSE_GATEWAY_COOKIE_KEY: key().toString('base64') }, dir), /GATEHOUSE_GATEWAY_SSO_SECRET/);
    assert.throws(() => loadBrowserSessionSecrets(config(), { GATEHOUSE_GATEWAY_SSO_SECRET: 'x' }, dir), /GATEHOUSE_GATEWAY_COOKIE_KEY/);
  });
});
