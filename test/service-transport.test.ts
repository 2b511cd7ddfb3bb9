/** Transport hardening of the service shell: HSTS on every response of an https issuer, weak cookie keys refused at start. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { configSchema } from '../src/config/index.ts';
import { createSecurityService } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';

const HSTS = 'max-age=31536000';

/** One request of each kind: our routes, errors, the hijacked OAuth provider, its error answers. */
const requests: Array<[string, string, RequestInit?]> = [
  ['GET', '/healthz'],
  ['GET', '/no/such/thing'],
  ['GET', '/admin/api/users'],
  ['GET', '/events/stream'],
  ['GET', '/.well-known/openid-configuration'],
  ['POST', '/oauth2/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }],
  ['DELETE', '/oauth2/token'],
  ['GET', '/oauth2/authorize?client_id=nobody&response_type=code'],
];

await forEachDialect('service transport', (dialect) => {
  let https: TestService;
  let http: TestService;
  before(async () => {
    // The listener is plain http (TLS ends at a proxy in front); the public issuer is https.
    https = await startService({ dialect, config: { issuer: 'https://auth.example.test' } });
    http = await startService({ dialect });
  });
  after(async () => { await https.close(); await http.close(); });

  test('ok: an https issuer → every response carries Strict-Transport-Security', async () => {
    for (const [method, path, init] of requests) {
      const res = await fetch(`${https.url}${path}`, { method, redirect: 'manual', ...init });
      await res.arrayBuffer();
      assert.equal(res.headers.get('strict-transport-security'), HSTS, `${method} ${path} (${res.status})`);
    }
  });

  test('ok: an http issuer (development) → no Strict-Transport-Security', async () => {
    for (const [method, path, init] of requests) {
      const res = await fetch(`${http.url}${path}`, { method, redirect: 'manual', ...init });
      await res.arrayBuffer();
      assert.equal(res.headers.get('strict-transport-security'), null, `${method} ${path}`);
    }
  });
});

test('fail-weak-cookie-key: a GATEHOUSE_COOKIE_KEY under 32 bytes is refused at start, before the store is opened', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cookie-key-'));
  try {
    const config = configSchema.parse({ dataDir });
    for (const key of ['changeme', randomBytes(16).toString('base64url')]) {
      await assert.rejects(
        createSecurityService({ config, logger: silentLogger(), env: { GATEHOUSE_COOKIE_KEY: key } }),
        (error: Error) => /GATEHOUSE_COOKIE_KEY/.test(error.message) && /at least 32 bytes/.test(error.message) && !error.message.includes(key),
      );
    }
    assert.equal(existsSync(join(dataDir, 'gatehouse.db')), false, 'nothing was opened');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
