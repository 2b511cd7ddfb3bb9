/**
 * No device-flow secret reaches the log, even at `trace`: the device code, the user code (typed
 * into /device and carried in `?user_code=`), the tokens and the browser's cookies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { DEVICE_CODE_GRANT } from '../src/oauth/index.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { capturedLog, startService, type TestService } from './helpers/service.ts';
import { rp, Browser, PASSWORD } from './oauth/helpers.ts';
import { approveDevice, enterUserCode } from './oauth/device.ts';

await forEachDialect('device flow secrets in logs', (dialect) => {
  const { lines, logger } = capturedLog();
  let svc: TestService;
  let issuer: string;

  before(async () => {
    svc = await startService({ dialect, logger, config: { log: { level: 'trace' }, deviceFlow: { interval: 1 } } });
    issuer = svc.config.issuer;
    const ctx = svc.service.context;
    await ctx.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
    await ctx.oauth.clients.create({ clientId: 'tv-app', name: 'TV App', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scope: 'openid offline_access books:read' }, 'test');
  });
  after(async () => { await svc.close(); });

  test('ok: device authorization, pending and fast polls, a wrong code, approval, tokens — no secret in the trace log', async () => {
    const tv = await rp(issuer, 'tv-app');
    // One code polled pending and too fast (slow_down), another approved.
    const waiting = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const poll = () => fetch(`${issuer}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: waiting.device_code, client_id: 'tv-app' }).toString() });
    assert.equal((await poll()).status, 400);
    assert.equal((await poll()).status, 400);
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid offline_access books:read' });
    const browser = new Browser();
    await browser.fetch(started.verification_uri_complete!);
    assert.equal((await enterUserCode(browser, issuer, 'ZZZZ-QQQQ')).status, 400);
    const polling = oidc.pollDeviceAuthorizationGrant(tv, started);
    assert.match((await approveDevice(browser, issuer, started.user_code)).html, /Device connected/);
    const tokens = await polling;

    const secrets = new Map<string, string>([
      ['device code', started.device_code],
      ['polled device code', waiting.device_code],
      ['polled user code', waiting.user_code],
      ['user code', started.user_code],
      ['user code (normalized)', started.user_code.replace('-', '')],
      ['password', PASSWORD],
      ['access token', tokens.access_token],
      ['refresh token', tokens.refresh_token!],
      ['id token', tokens.id_token!],
    ]);
    for (const [name, value] of browser.cookies) if (!/^_interaction(_resume)?$/.test(name)) secrets.set(`cookie ${name}`, value);
    const log = lines.join('');
    assert.ok(lines.length > 10, 'the trace log was captured');
    for (const [name, value] of secrets) assert.ok(!log.includes(value), `the ${name} is in the log`);
  });
});
