/**
 * No device-flow secret reaches the log, even at `trace`: the device code, the user code (typed
 * into /device and carried in `?user_code=`), the tokens and the browser's cookies.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { configSchema } from '../src/config/index.ts';
import { createSecurityService, type SecurityService } from '../src/service.ts';
import { createLogger } from '../src/shared/logger.ts';
import { DEVICE_CODE_GRANT } from '../src/oauth/index.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { freePort } from './helpers/service.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { rp, Browser, PASSWORD } from './oauth/helpers.ts';
import { approveDevice, enterUserCode } from './oauth/device.ts';

await forEachDialect('device flow secrets in logs', (dialect) => {
  const lines: string[] = [];
  let service: SecurityService;
  let issuer: string;
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  before(async () => {
    const port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-device-logs-'));
    const database = dialect === 'postgres' ? await createTestDatabase() : undefined;
    dropDatabase = database?.drop;
    issuer = `http://127.0.0.1:${port}`;
    const config = configSchema.parse({
      issuer, dataDir,
      listen: { host: '127.0.0.1', port, tlsPort: await freePort() },
      database: database ? { url: database.url, poolSize: 5 } : {},
      resources: [{ audience: `${issuer}/api`, scopes: ['books:read'] }],
      log: { level: 'trace' },
      deviceFlow: { interval: 1 },
    });
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => { lines.push(line); } } });
    service = await createSecurityService({ config, logger, env: {} });
    await service.listen();
    await service.context.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
    await service.context.oauth.clients.create({ clientId: 'tv-app', name: 'TV App', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scope: 'openid offline_access books:read' }, 'test');
  });
  after(async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropDatabase?.();
  });

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
