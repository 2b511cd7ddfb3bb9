/**
 * No secret ever reaches the log, even at `trace`: the service runs with the production logger
 * (redaction included) writing into memory while passwords, client secrets, codes, tokens and
 * cookies cross every interface that handles them; then the captured text is searched for each.
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
import { forEachDialect } from './helpers/dialects.ts';
import { freePort } from './helpers/service.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { rp, codeFlow, authorizationUrl, Browser, formAction, formField, post, tokenRequest, CALLBACK, PASSWORD } from './oauth/helpers.ts';

const WRONG_PASSWORD = 'Wrong-Horse-Battery-9931';
const NEW_USER_PASSWORD = 'Velvet-Compass-Harbor-5520';
const MALFORMED_PASSWORD = 'Granite-Orchid-Falcon-7316';

await forEachDialect('secrets in logs', (dialect) => {
  const lines: string[] = [];
  const secrets = new Map<string, string>();
  let service: SecurityService;
  let issuer: string;
  let dataDir: string;
  let dropDatabase: (() => Promise<void>) | undefined;

  before(async () => {
    const port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'));
    const database = dialect === 'postgres' ? await createTestDatabase() : undefined;
    dropDatabase = database?.drop;
    issuer = `http://127.0.0.1:${port}`;
    const config = configSchema.parse({
      issuer, dataDir,
      listen: { host: '127.0.0.1', port, tlsPort: await freePort() },
      database: database ? { url: database.url, poolSize: 5 } : {},
      resources: [{ audience: `${issuer}/api`, scopes: ['books:read'] }],
      log: { level: 'trace' },
    });
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => { lines.push(line); } } });
    service = await createSecurityService({ config, logger, env: {} });
    await service.listen();
    const ctx = service.context;
    await ctx.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
    await ctx.users.create({ username: 'bob', email: 'bob@example.com', password: PASSWORD, roles: ['admin'] }, 'test');
    const shop = await ctx.oauth.clients.create({ clientId: 'shop', name: 'Shop', firstParty: true, redirectUris: [CALLBACK], grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile offline_access books:read admin' }, 'test');
    const worker = await ctx.oauth.clients.create({ clientId: 'worker', name: 'Worker', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'books:read', tokenEndpointAuthMethod: 'client_secret_post' }, 'test');
    secrets.set('shop client secret', shop.secret!);
    secrets.set('worker client secret', worker.secret!);
    secrets.set('password', PASSWORD);
    secrets.set('wrong password', WRONG_PASSWORD);
  });
  after(async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropDatabase?.();
  });

  /**
   * oidc-provider's `_interaction`/`_interaction_resume` cookies hold the interaction uid, which is
   * also in the page URL (/interaction/<uid>) and so no secret; their `.sig` companions and the
   * session cookie are, and must never be logged.
   */
  const addCookie = (name: string, value: string) => {
    if (/^_interaction(_resume)?( |$)/.test(name)) return;
    secrets.set(`cookie ${name}`, value);
  };

  test('ok: form logins, token, refresh, client and user creation, malformed JSON — no secret in the trace log', async () => {
    const shop = await rp(issuer, 'shop', secrets.get('shop client secret'));

    // A failing login through the form.
    const browser = new Browser();
    const page = await browser.follow((await authorizationUrl(shop)).url.href, issuer);
    const html = await page.res.text();
    assert.equal(page.res.status, 200, html.slice(0, 2000));
    const failed = await post(browser, new URL(formAction(html, '/login'), issuer).href, { csrf: formField(html, 'csrf'), username: 'alice', password: WRONG_PASSWORD });
    assert.equal(failed.status, 401);
    for (const [name, value] of browser.cookies) addCookie(`${name} (failed login)`, value);

    // A succeeding login, the code exchanged with the client secret (Basic), then a refresh.
    const flow = await codeFlow(shop, issuer, { params: { scope: 'openid offline_access books:read', prompt: 'consent' } });
    secrets.set('authorization code', flow.callback.searchParams.get('code')!);
    secrets.set('access token', flow.tokens.access_token);
    secrets.set('refresh token', flow.tokens.refresh_token!);
    secrets.set('id token', flow.tokens.id_token!);
    for (const [name, value] of flow.browser.cookies) addCookie(name, value);
    const refreshed = await oidc.refreshTokenGrant(shop, flow.tokens.refresh_token!);
    secrets.set('refreshed access token', refreshed.access_token);
    secrets.set('rotated refresh token', refreshed.refresh_token!);

    // A token request with the client secret in the form body.
    const cc = await tokenRequest(issuer, { grant_type: 'client_credentials', client_id: 'worker', client_secret: secrets.get('worker client secret')!, scope: 'books:read' });
    assert.equal(cc.status, 200);
    secrets.set('client_credentials access token', ((await cc.json()) as { access_token: string }).access_token);

    // The admin API: a client created (its secret in the answer), a user created with a password, malformed JSON.
    const admin = (await codeFlow(shop, issuer, { username: 'bob', params: { scope: 'openid admin', resource: issuer } })).tokens.access_token;
    secrets.set('admin access token', admin);
    const adminCall = (path: string, body: string) => fetch(`${issuer}/admin/api${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body });
    const client = await adminCall('/clients', JSON.stringify({ name: 'Billing', firstParty: true, grantTypes: ['client_credentials'] }));
    assert.equal(client.status, 201);
    secrets.set('created client secret', ((await client.json()) as { secret: string }).secret);
    secrets.set('new user password', NEW_USER_PASSWORD);
    assert.equal((await adminCall('/users', JSON.stringify({ username: 'carol', email: 'carol@example.com', password: NEW_USER_PASSWORD }))).status, 201);
    secrets.set('password in malformed JSON', MALFORMED_PASSWORD);
    assert.equal((await adminCall('/users', `{"username": "dave", "password": "${MALFORMED_PASSWORD}",`)).status, 400);

    const log = lines.join('');
    // The capture works: trace-level lines of these requests are there.
    assert.ok(lines.length > 20, `only ${lines.length} log lines captured`);
    assert.match(log, /"url":"\/admin\/api\/users"/);
    for (const [name, value] of secrets) {
      assert.ok(value.length >= 16, `${name} is long enough to search for`);
      assert.equal(log.includes(value), false, `the ${name} appears in the log`);
    }
  });
});
