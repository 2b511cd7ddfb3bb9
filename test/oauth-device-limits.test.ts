/**
 * The device flow's limits: an expired device code, wrong user codes per client address, and
 * pending polls that must not count as refused requests.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { DEVICE_CODE_GRANT } from '../src/oauth/index.ts';
import { startOAuthService, rp, Browser, auditProbe, type OAuthFixture } from './oauth/helpers.ts';
import { enterUserCode } from './oauth/device.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withDeviceClient(fx: OAuthFixture): Promise<oidc.Configuration> {
  await fx.svc.service.context.oauth.clients.create({ clientId: 'tv-app', name: 'TV App', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT], scope: 'openid books:read' }, 'test');
  return rp(fx.issuer, 'tv-app');
}

function poll(fx: OAuthFixture, deviceCode: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${fx.issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: 'tv-app' }).toString(),
  });
}

await forEachDialect('oauth device flow expiry', (dialect) => {
  let fx: OAuthFixture;
  let tv: oidc.Configuration;
  before(async () => {
    fx = await startOAuthService(dialect, { config: { deviceFlow: { interval: 1, codeTtl: 1 } } });
    tv = await withDeviceClient(fx);
  });
  after(async () => { await fx.close(); });

  test('fail-expired: a device code past its lifetime is expired_token, and its user code is refused', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    assert.equal(started.expires_in, 1);
    await sleep(2100);
    const head = await auditProbe(fx).head();
    const res = await poll(fx, started.device_code);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'expired_token');
    assert.equal((await auditProbe(fx).last('token.refused', head)).reason, 'expired_token');
    const page = await enterUserCode(new Browser(), fx.issuer, started.user_code);
    assert.equal(page.status, 400);
    assert.match(page.html, /not valid or has expired/);
    assert.equal((await auditProbe(fx).last('user_code.refused', head)).reason, 'expired');
  });
});

describe('oauth device flow limits', () => {
  let fx: OAuthFixture;
  let tv: oidc.Configuration;
  before(async () => {
    // In-memory limits (no store involved beyond the audit rows): SQLite only. Each test speaks
    // from its own address through the trusted-proxy header, so no test's count reaches another.
    fx = await startOAuthService('sqlite', { config: { deviceFlow: { interval: 1, userCodeAttempts: 3 }, http: { trustedProxies: ['127.0.0.1/32'], refusalLimit: 2 } } });
    tv = await withDeviceClient(fx);
  });
  after(async () => { await fx.close(); });

  test('fail-user-code-guessing: after userCodeAttempts wrong codes the address is answered 429 at /device', async () => {
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const head = await auditProbe(fx).head();
    for (let i = 0; i < 3; i++) assert.equal((await enterUserCode(new Browser(), fx.issuer, 'BCDF-GHJK', from)).status, 400);
    const blocked = await enterUserCode(new Browser(), fx.issuer, 'BCDF-GHJK', from);
    assert.equal(blocked.status, 429);
    assert.match(blocked.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(blocked.html, /Too many wrong codes/);
    assert.equal(blocked.headers.get('x-frame-options'), 'DENY');
    const row = await auditProbe(fx).last('ip.blocked', head);
    assert.equal(row.reason, 'too_many_user_codes');
    assert.equal(row.ip, '203.0.113.7');
    // Even the right code is refused from that address now; another address is unaffected.
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    assert.equal((await enterUserCode(new Browser(), fx.issuer, started.user_code, from)).status, 429);
    const elsewhere = await enterUserCode(new Browser(), fx.issuer, started.user_code, { 'x-forwarded-for': '203.0.113.8' });
    assert.equal(elsewhere.status, 200);
    assert.match(elsewhere.html, /Is this your device\?/);
  });

  test('ok: pending polls are not refusals — a device may wait longer than http.refusalLimit polls', async () => {
    const from = { 'x-forwarded-for': '198.51.100.4' };
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    for (let i = 0; i < 3; i++) {
      const res = await poll(fx, started.device_code, from);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'authorization_pending', `poll ${i + 1}`);
      await sleep(1050);
    }
  });

  test('fail-slow-down-counted: polls that keep coming too fast are refusals (the address is blocked at the limit)', async () => {
    const from = { 'x-forwarded-for': '198.51.100.9' };
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    assert.equal((await poll(fx, started.device_code, from)).status, 400);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await poll(fx, started.device_code, from)).status);
    assert.deepEqual(statuses, [400, 400, 429]);
  });
});
