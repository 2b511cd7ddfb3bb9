/**
 * `client update` through the admin API changes what the authorization and token endpoints do at
 * the next request (oidc-provider keeps no stale copy of a client); invalid changes change nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, authorizationUrl, codeFlow, Browser, CALLBACK, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';

const OTHER = 'http://127.0.0.1:9/other';

await forEachDialect('client update', (dialect) => {
  let fx: OAuthFixture;
  let admin: string;

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${fx.issuer}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** What the authorization endpoint does with `redirectUri` for `config`: 'login' (accepted) or the refusal status. */
  const authorize = async (config: oidc.Configuration, redirectUri: string) => {
    const { url } = await authorizationUrl(config, { redirect_uri: redirectUri });
    const step = await new Browser().follow(url.href, fx.issuer);
    if (step.res.status === 200 && /name="password"/.test(await step.res.text())) return 'login';
    assert.equal(step.res.headers.get('location'), null, 'a refused redirect URI is never redirected to');
    return step.res.status;
  };

  const addWebApp = async (clientId: string) => {
    const { secret } = await fx.svc.service.context.oauth.clients.create({ clientId, name: 'Web app', firstParty: true, redirectUris: [CALLBACK, OTHER], grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile offline_access books:read orders:write' }, 'test');
    return rp(fx.issuer, clientId, secret);
  };

  before(async () => {
    fx = await startOAuthService(dialect);
    const now = Math.floor(Date.now() / 1000);
    admin = await fx.svc.service.context.keys.sign(
      { iss: fx.issuer, sub: fx.users.bob, aud: fx.issuer, client_id: 'admin-console', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 600, scope: 'openid admin' },
      { typ: 'at+jwt' },
    );
  });
  after(async () => { await fx.close(); });

  test('ok: a redirect URI removed through the admin API is refused at the very next authorization request', async () => {
    const app = await addWebApp('web-redirects');
    assert.equal(await authorize(app, OTHER), 'login');
    const res = await call('PATCH', '/clients/web-redirects', { redirectUris: [CALLBACK] });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { redirectUris: string[] }).redirectUris, [CALLBACK]);
    assert.equal(await authorize(app, OTHER), 400);
    assert.equal(await authorize(app, CALLBACK), 'login');
  });

  test('fail-redirect-uri: a URI one character away from the updated one is refused', async () => {
    const app = await addWebApp('web-near-miss');
    await call('PATCH', '/clients/web-near-miss', { redirectUris: ['http://127.0.0.1:9/callback2'] });
    assert.equal(await authorize(app, 'http://127.0.0.1:9/callback3'), 400);
    const [refused] = await fx.svc.service.context.audit.list({ event: 'authorization.refused', latest: true, limit: 1 });
    assert.deepEqual([refused?.clientId, refused?.reason], ['web-near-miss', 'invalid_redirect_uri'], 'the refusal is audited');
    assert.equal(await authorize(app, 'http://127.0.0.1:9/callback2'), 'login');
  });

  test('ok: the new name is what the provider shows, only the given fields change, client.updated is audited', async () => {
    await addWebApp('web-rename');
    const res = await call('PATCH', '/clients/web-rename', { name: 'Renamed app' });
    const client = (await res.json()) as { name: string; redirectUris: string[]; scope: string };
    assert.equal(client.name, 'Renamed app');
    assert.deepEqual(client.redirectUris, [CALLBACK, OTHER]);
    assert.equal(client.scope, 'openid profile offline_access books:read orders:write');
    const [row] = await fx.svc.service.context.audit.list({ event: 'client.updated', subject: 'web-rename', latest: true, limit: 1 });
    assert.deepEqual(row?.data?.changed, ['name']);
    assert.equal(row?.actor, `user:${fx.users.bob}`);
  });

  test('ok: removing a scope refuses it at once and revokes the refresh tokens issued under the wider registration', async () => {
    const app = await addWebApp('web-narrow');
    const { tokens } = await codeFlow(app, fx.issuer, { params: { scope: 'openid offline_access orders:write', prompt: 'consent' } });
    assert.ok(tokens.refresh_token);
    const res = await call('PATCH', '/clients/web-narrow', { scope: 'openid profile offline_access books:read' });
    assert.equal(res.status, 200);
    await assert.rejects(oidc.refreshTokenGrant(app, tokens.refresh_token), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
    const { url } = await authorizationUrl(app, { scope: 'openid orders:write' });
    const step = await new Browser().follow(url.href, fx.issuer);
    assert.match(step.url, /error=invalid_scope/);
    const [row] = await fx.svc.service.context.audit.list({ event: 'client.updated', subject: 'web-narrow', latest: true, limit: 1 });
    assert.equal(row?.reason, 'client_narrowed');
  });

  test('ok: switching client_secret_basic → client_secret_post refuses Basic at once', async () => {
    const { secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'svc-switch', name: 'Service', firstParty: true, grantTypes: ['client_credentials'], scope: 'books:read', redirectUris: [] }, 'test');
    const form = { grant_type: 'client_credentials', scope: 'books:read' };
    assert.equal((await tokenRequest(fx.issuer, form, basic('svc-switch', secret!))).status, 200);
    assert.equal((await call('PATCH', '/clients/svc-switch', { tokenEndpointAuthMethod: 'client_secret_post' })).status, 200);
    const refused = await tokenRequest(fx.issuer, form, basic('svc-switch', secret!));
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client');
    assert.equal((await tokenRequest(fx.issuer, { ...form, client_id: 'svc-switch', client_secret: secret! })).status, 200);
  });

  for (const [reason, body] of [
    ['redirect-uri', { redirectUris: ['http://app.example.com/cb'] }],
    ['fragment', { redirectUris: [`${CALLBACK}#x`] }],
    ['scope', { scope: 'openid payroll:write' }],
    ['grants', { grantTypes: ['refresh_token'] }],
    ['method-family', { tokenEndpointAuthMethod: 'private_key_jwt' }],
    ['unknown-field', { clientId: 'renamed' }],
  ] as const) {
    test(`fail-${reason}: an invalid change answers 422 and changes nothing`, async () => {
      const app = await addWebApp(`web-bad-${reason}`);
      const before = await fx.svc.service.context.oauth.clients.find(`web-bad-${reason}`);
      const res = await call('PATCH', `/clients/web-bad-${reason}`, body);
      assert.equal(res.status, 422);
      assert.equal(((await res.json()) as { code: string }).code, 'validation_failed');
      assert.deepEqual(await fx.svc.service.context.oauth.clients.find(`web-bad-${reason}`), before);
      assert.equal(await authorize(app, OTHER), 'login');
    });
  }

  test('fail-not-found: updating an unknown client → 404', async () => {
    const res = await call('PATCH', '/clients/ghost', { name: 'Ghost' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'not_found');
  });
});
