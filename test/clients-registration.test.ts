/**
 * Dynamic client registration (RFC 7591): off by default (404, not in discovery); when on, behind
 * an initial access token, a client registers with openid-client and then signs a user in; it is
 * stored in our clients table as a third-party client without roles. Bad metadata gets the RFC 7591
 * error and stores nothing.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, codeFlow, CALLBACK, type OAuthFixture } from './oauth/helpers.ts';

const TOKEN = 'dcr-initial-access-token-0123456789abcdef';

await forEachDialect('dynamic client registration', (dialect) => {
  describe('off (the default)', () => {
    let fx: OAuthFixture;
    before(async () => { fx = await startOAuthService(dialect); });
    after(async () => { await fx.close(); });

    test('fail-disabled: POST /oauth2/register → 404 and discovery advertises no registration_endpoint', async () => {
      const res = await fetch(`${fx.issuer}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ redirect_uris: [CALLBACK] }) });
      assert.equal(res.status, 404);
      const discovery = (await (await fetch(`${fx.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(discovery.registration_endpoint, undefined);
      assert.equal((await fx.svc.service.context.oauth.clients.list()).length, 4);
    });
  });

  describe('guessing the initial access token', () => {
    let fx: OAuthFixture;
    before(async () => {
      fx = await startOAuthService(dialect, {
        config: { http: { refusalLimit: 3 }, oauth: { dynamicRegistration: { enabled: true, initialAccessTokenFile: 'registration.token' } } },
        prepare: async (config) => writeFileSync(join(config.dataDir, 'registration.token'), TOKEN, { mode: 0o600 }),
      });
    });
    after(async () => { await fx.close(); });

    test('fail-guessing: refused registrations count toward http.refusalLimit; then 429 even with the right token', async () => {
      const attempt = (token: string) => fetch(`${fx.issuer}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ redirect_uris: [CALLBACK] }) });
      for (let i = 0; i < 3; i++) assert.equal((await attempt(`guess-${i}`)).status, 401);
      const blocked = await attempt(TOKEN);
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    });
  });

  describe('on, with an initial access token', () => {
    let fx: OAuthFixture;
    const register = (body: Record<string, unknown>, token: string | null = TOKEN) =>
      fetch(`${fx.issuer}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const count = async () => (await fx.svc.service.context.oauth.clients.list()).length;

    before(async () => {
      fx = await startOAuthService(dialect, {
        config: { oauth: { dynamicRegistration: { enabled: true, initialAccessTokenFile: 'registration.token' } } },
        prepare: async (config) => writeFileSync(join(config.dataDir, 'registration.token'), `${TOKEN}\n`, { mode: 0o600 }),
      });
    });
    after(async () => { await fx.close(); });

    test('ok: registered with openid-client, the client signs alice in (consent page: third-party) and is stored without roles', async () => {
      const discovery = (await (await fetch(`${fx.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(discovery.registration_endpoint, `${fx.issuer}/oauth2/register`);
      const app = await oidc.dynamicClientRegistration(
        new URL(fx.issuer),
        // openid-client authenticates a registered client with client_secret_post unless told otherwise.
        { client_name: 'Book club', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile offline_access books:read', token_endpoint_auth_method: 'client_secret_post' },
        undefined,
        { initialAccessToken: TOKEN, execute: [oidc.allowInsecureRequests] },
      );
      const metadata = app.clientMetadata();
      assert.ok(typeof metadata.client_secret === 'string' && metadata.client_secret.length >= 43);
      const { tokens } = await codeFlow(app, fx.issuer, { consent: true, params: { scope: 'openid profile books:read' } });
      assert.ok(tokens.access_token);
      const stored = await fx.svc.service.context.oauth.clients.find(metadata.client_id);
      assert.equal(stored.name, 'Book club');
      assert.equal(stored.firstParty, false);
      assert.deepEqual(stored.roles, []);
      assert.equal(stored.tokenEndpointAuthMethod, 'client_secret_post');
      assert.equal(stored.scope, 'openid profile offline_access books:read');
      const [row] = await fx.svc.service.context.audit.list({ event: 'client.registered', subject: metadata.client_id, limit: 1 });
      assert.equal(row?.ip, '127.0.0.1');
      assert.doesNotMatch(JSON.stringify(row), new RegExp(String(metadata.client_secret)));
    });

    test('ok: a public client (none) registers without a secret and gets the allowed scopes when it names none', async () => {
      const res = await register({ redirect_uris: ['com.example.app:/cb'], token_endpoint_auth_method: 'none', application_type: 'native' });
      assert.equal(res.status, 201);
      const body = (await res.json()) as { client_id: string; client_secret?: string };
      assert.equal(body.client_secret, undefined);
      assert.equal((body as Record<string, unknown>).registration_access_token, undefined, 'RFC 7592 management is not offered');
      const stored = await fx.svc.service.context.oauth.clients.find(body.client_id);
      assert.equal(stored.public, true);
      assert.equal(stored.scope, 'openid offline_access profile email roles books:read orders:write');
    });

    for (const [reason, token] of [['no-token', null], ['wrong-token', 'not-the-token']] as const) {
      test(`fail-${reason}: 401 invalid_token, nothing stored, client.registration_refused audited`, async () => {
        const before = await count();
        const res = await register({ redirect_uris: [CALLBACK] }, token);
        assert.equal(res.status, 401);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
        assert.equal(await count(), before);
        const [row] = await fx.svc.service.context.audit.list({ event: 'client.registration_refused', latest: true, limit: 1 });
        assert.equal(row?.reason, 'invalid_token');
      });
    }

    for (const [reason, body, error] of [
      ['http-redirect', { redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri'],
      ['javascript-redirect', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
      ['fragment-redirect', { redirect_uris: [`${CALLBACK}#x`] }, 'invalid_redirect_uri'],
      ['client-credentials', { grant_types: ['client_credentials'], response_types: [] }, 'invalid_client_metadata'],
      ['service-scope', { redirect_uris: [CALLBACK], scope: 'openid events:read' }, 'invalid_client_metadata'],
      ['admin-scope', { redirect_uris: [CALLBACK], scope: 'openid admin' }, 'invalid_client_metadata'],
      ['unknown-scope', { redirect_uris: [CALLBACK], scope: 'openid payroll:write' }, 'invalid_client_metadata'],
      ['roles', { redirect_uris: [CALLBACK], gatehouse_roles: ['admin'] }, 'invalid_client_metadata'],
      ['first-party', { redirect_uris: [CALLBACK], gatehouse_first_party: true }, 'invalid_client_metadata'],
      ['auth-method', { redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata'],
      ['keys-without-method', { redirect_uris: [CALLBACK], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata'],
    ] as const) {
      test(`fail-${reason}: 400 ${error}, nothing stored`, async () => {
        const before = await count();
        const res = await register(body);
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: string }).error, error);
        assert.equal(await count(), before);
      });
    }
  });
});
