/** client_credentials, introspection (RFC 7662), revocation (RFC 7009), bad input, store outage. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, revokedSince, rp, codeFlow, basic, tokenRequest, auditProbe, type OAuthFixture } from './oauth/helpers.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import type { AuditEvent } from '../src/events/audit.ts';

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

async function form(url: string, body: Record<string, string>, auth?: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) }, body: new URLSearchParams(body).toString() });
}

await forEachDialect('oauth tokens', (dialect) => {
  let fx: OAuthFixture;
  let svcClient: oidc.Configuration;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  before(async () => {
    ({ fx, shop, published } = await startShopFixture(dialect));
    svcClient = await rp(fx.issuer, 'orders-svc', fx.service.secret);
  });
  after(async () => { await fx.close(); });
  const auditHead = () => auditProbe(fx).head();
  const lastAudit = (event: AuditEvent, since: number) => auditProbe(fx).last(event, since);

  const introspect = (token: string, auth?: string) => form(`${fx.issuer}/oauth2/introspect`, { token }, auth);
  const asService = () => basic('orders-svc', fx.service.secret);

  test('ok: client_credentials gives a JWT for the default API carrying the client roles', async () => {
    const tokens = await oidc.clientCredentialsGrant(svcClient, { scope: 'books:read' });
    const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, 'orders-svc');
    assert.equal(payload.client_id, 'orders-svc');
    assert.equal(payload.scope, 'books:read');
    assert.deepEqual(payload.roles, ['staff']);
    const metrics = await (await fetch(`${fx.issuer}/metrics`)).text();
    assert.match(metrics, /gatehouse_tokens_issued_total\{grant_type="client_credentials"\} [1-9]/);
  });

  test('ok: a service credential for the event stream has aud = issuer and events:read', async () => {
    const tokens = await oidc.clientCredentialsGrant(svcClient, { scope: 'events:read', resource: fx.issuer });
    assert.equal(claims(tokens.access_token).aud, fx.issuer);
    assert.equal(claims(tokens.access_token).scope, 'events:read');
  });

  test('fail-wrong-secret: 401 invalid_client, nothing issued, token.refused audited without the secret', async () => {
    const since = await auditHead();
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials' }, basic('orders-svc', 'not-the-secret'));
    assert.equal(res.status, 401);
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'invalid_client');
    assert.equal(row.clientId ?? row.data?.presentedClientId, 'orders-svc');
    assert.equal(row.ip, '127.0.0.1');
    assert.equal(row.data?.grantType, 'client_credentials');
    assert.doesNotMatch(JSON.stringify(row), /not-the-secret/);
    assert.equal((await fx.svc.service.context.audit.list({ event: 'token.issued' })).filter((e) => e.seq > since).length, 0);
  });

  test('fail-unknown-client: 401 invalid_client, token.refused audited with the presented id', async () => {
    const since = await auditHead();
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials' }, basic('nobody', 'secret'));
    assert.equal(res.status, 401);
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'invalid_client');
    assert.equal(row.clientId, null);
    assert.equal(row.data?.presentedClientId, 'nobody');
  });

  test('fail-grant-not-allowed: a client without client_credentials cannot use it', async () => {
    const since = await auditHead();
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials' }, basic('shop', fx.firstParty.secret));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'unauthorized_client');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'unauthorized_client');
    assert.equal(row.clientId, 'shop');
  });

  test('fail-introspection-unauthenticated: 401 invalid_client, introspection.refused audited', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(svcClient, { scope: 'books:read' });
    const since = await auditHead();
    const res = await introspect(access_token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Basic/);
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
    assert.equal((await lastAudit('introspection.refused', since)).reason, 'invalid_client');
    const publicClient = await form(`${fx.issuer}/oauth2/introspect`, { token: access_token, client_id: 'spa' });
    assert.equal(publicClient.status, 401);
    const wrongSecret = await introspect(access_token, basic('orders-svc', 'not-the-secret'));
    assert.equal(wrongSecret.status, 401);
    const row = await lastAudit('introspection.refused', since);
    assert.equal(row.reason, 'invalid_client');
    assert.doesNotMatch(JSON.stringify(row), /not-the-secret/);
  });

  test('fail-revocation-unauthenticated: 401 invalid_client with WWW-Authenticate, revocation.refused audited', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(svcClient, { scope: 'books:read' });
    const since = await auditHead();
    const res = await form(`${fx.issuer}/oauth2/revoke`, { token: access_token });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="gatehouse"');
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
    assert.equal((await lastAudit('revocation.refused', since)).reason, 'invalid_client');
    const wrongSecret = await form(`${fx.issuer}/oauth2/revoke`, { token: access_token }, basic('orders-svc', 'not-the-secret'));
    assert.equal(wrongSecret.status, 401);
    assert.equal((await lastAudit('revocation.refused', since)).reason, 'invalid_client');
    // Nothing was revoked.
    assert.equal((await (await introspect(access_token, asService())).json() as { active: boolean }).active, true);
  });

  test('ok: introspection of a user JWT is active with its claims; garbage is inactive', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer);
    const res = await introspect(tokens.access_token, asService());
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.active, true);
    assert.equal(body.sub, fx.users.alice);
    assert.equal(body.client_id, 'shop');
    assert.equal(body.aud, fx.api);
    assert.deepEqual(body.roles, ['customer']);
    assert.equal((await (await introspect('not-a-token', asService())).json() as { active: boolean }).active, false);
    const forged = `${tokens.access_token.slice(0, -4)}AAAA`;
    assert.equal((await (await introspect(forged, asService())).json() as { active: boolean }).active, false);
  });

  test('fail-lifetime: a token signed with our key but living a century is inactive at introspection (the APIs\' max-age check)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const century = await fx.svc.service.context.keys.sign({ iss: fx.issuer, sub: 'orders-svc', aud: fx.api, client_id: 'orders-svc', jti: 'century-long', iat: now, exp: now + 100 * 365 * 86_400 }, { typ: 'at+jwt' });
    assert.equal((await (await introspect(century, asService())).json() as { active: boolean }).active, false);
    const fresh = await fx.svc.service.context.keys.sign({ iss: fx.issuer, sub: 'orders-svc', aud: fx.api, client_id: 'orders-svc', jti: 'normal-life', iat: now, exp: now + 300 }, { typ: 'at+jwt' });
    assert.equal((await (await introspect(fresh, asService())).json() as { active: boolean }).active, true, 'the same token with a normal lifetime is active');
  });

  test('ok: a client introspects its own JWT access token and refresh token', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: { scope: 'openid offline_access books:read', prompt: 'consent' } });
    const asShop = basic('shop', fx.firstParty.secret);
    const access = await (await introspect(tokens.access_token, asShop)).json() as Record<string, unknown>;
    assert.deepEqual([access.active, access.client_id, access.sub], [true, 'shop', fx.users.alice]);
    const refresh = await (await introspect(tokens.refresh_token!, asShop)).json() as Record<string, unknown>;
    assert.deepEqual([refresh.active, refresh.client_id], [true, 'shop']);
  });

  test('fail-other-client: a client without tokens:introspect learns nothing about another client\'s JWT, refresh or opaque token', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: { scope: 'openid offline_access books:read', prompt: 'consent' } });
    const opaque = (await codeFlow(shop, fx.issuer, { params: { scope: 'openid profile' } })).tokens.access_token;
    assert.equal(opaque.split('.').length, 1, 'a grant of OpenID scopes alone gets an opaque token');
    const { secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'nosy-svc', name: 'Nosy', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'books:read events:read' }, 'test');
    for (const auth of [basic('partner', fx.thirdParty.secret), basic('nosy-svc', secret!)]) {
      for (const token of [tokens.access_token, tokens.refresh_token!, opaque]) {
        const res = await introspect(token, auth);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { active: false });
      }
    }
    // Its own token is still visible to it, and the tokens are still active for their owner.
    const nosy = await rp(fx.issuer, 'nosy-svc', secret!);
    const own = (await oidc.clientCredentialsGrant(nosy, { scope: 'books:read' })).access_token;
    assert.equal((await (await introspect(own, basic('nosy-svc', secret!))).json() as { active: boolean }).active, true);
    for (const token of [tokens.access_token, tokens.refresh_token!, opaque]) {
      assert.equal((await (await introspect(token, basic('shop', fx.firstParty.secret))).json() as { active: boolean }).active, true);
    }
  });

  test('ok: a tokens:introspect client sees another client\'s JWT, refresh and opaque token with their claims', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: { scope: 'openid offline_access books:read', prompt: 'consent' } });
    const opaque = (await codeFlow(shop, fx.issuer, { params: { scope: 'openid profile' } })).tokens.access_token;
    for (const token of [tokens.access_token, tokens.refresh_token!, opaque]) {
      const body = await (await introspect(token, asService())).json() as Record<string, unknown>;
      assert.deepEqual([body.active, body.client_id, body.sub], [true, 'shop', fx.users.alice]);
    }
  });

  test('ok: revoking a JWT access token makes it inactive and publishes its jti', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer);
    const from = published.length;
    // Another client cannot revoke it (RFC 7009 §2.1): silently ignored.
    assert.equal((await form(`${fx.issuer}/oauth2/revoke`, { token: tokens.access_token }, asService())).status, 200);
    assert.equal((await (await introspect(tokens.access_token, asService())).json() as { active: boolean }).active, true);
    await oidc.tokenRevocation(shop, tokens.access_token);
    assert.equal((await (await introspect(tokens.access_token, asService())).json() as { active: boolean }).active, false);
    const event = revokedSince(published, from)[0];
    assert.deepEqual(event?.tokenIds, [claims(tokens.access_token).jti]);
    assert.ok((await fx.svc.service.context.audit.list({ event: 'token.revoked' })).length >= 1);
  });

  test('ok: revoking a client_credentials token makes it inactive', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(svcClient, { scope: 'books:read' });
    await oidc.tokenRevocation(svcClient, access_token);
    assert.equal((await (await introspect(access_token, asService())).json() as { active: boolean }).active, false);
  });

  test('ok: revoking a refresh token revokes the grant and its access tokens', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: { scope: 'openid offline_access books:read', prompt: 'consent' } });
    const refreshIntro = await (await introspect(tokens.refresh_token!, asService())).json() as { active: boolean };
    assert.equal(refreshIntro.active, true);
    await oidc.tokenRevocation(shop, tokens.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    assert.equal((await (await introspect(tokens.access_token, asService())).json() as { active: boolean }).active, false);
    assert.ok((await fx.svc.service.context.audit.list({ event: 'grant.revoked' })).some((e) => e.reason === 'revoked_by_client'));
  });

  test('fail-malformed: a JSON body at the token endpoint is invalid_request, nothing stored', async () => {
    const db = fx.svc.service.context.store.db;
    const count = async () => Number((await db.selectFrom('oidc_models').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const res = await fetch(`${fx.issuer}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: asService() }, body: '{"grant_type":' });
    assert.equal(res.status, 400);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.error, 'invalid_request');
    assert.doesNotMatch(JSON.stringify(body), /\.js:\d+|at async/);
    const missing = await tokenRequest(fx.issuer, {}, asService());
    assert.equal(missing.status, 400);
    assert.equal((await missing.json() as { error: string }).error, 'invalid_request');
    const unsupported = await tokenRequest(fx.issuer, { grant_type: 'password', username: 'alice', password: 'x' }, asService());
    assert.equal((await unsupported.json() as { error: string }).error, 'unsupported_grant_type');
    assert.equal(await count(), before);
  });

  test('fail-oversize: a huge body is refused with an OAuth error', async () => {
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'x'.repeat(200_000) }, asService());
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_request');
  });

  // Last: it takes the store down.
  test('fail-store-down: a database failure mid-request answers 503, not 500', async () => {
    await fx.svc.service.context.store.db.destroy();
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'books:read' }, asService());
    assert.equal(res.status, 503);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.error, 'temporarily_unavailable');
    assert.doesNotMatch(JSON.stringify(body), /destroyed|\.js:\d+/);
  });
});
