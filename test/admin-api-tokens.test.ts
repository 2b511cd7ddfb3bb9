/** Admin API with tokens issued by the real OAuth flows: revocation and client credentials are honoured at once. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { PublishedEvent, TokensRevoked } from '../src/events/types.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, codeFlow, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';

await forEachDialect('admin api tokens', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;

  const users = (token: string) => fetch(`${fx.issuer}/admin/api/users`, { headers: { authorization: `Bearer ${token}` } });
  /** bob (roles admin, staff) signs in through the login form; the token is for the admin API. */
  const bobsAdminToken = async () => (await codeFlow(shop, fx.issuer, { username: 'bob', params: { scope: 'openid admin', resource: fx.issuer } })).tokens.access_token;
  const clientToken = async (clientId: string, secret: string, scope: string) => {
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope, resource: fx.issuer }, basic(clientId, secret));
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  before(async () => {
    fx = await startOAuthService(dialect);
    shop = await rp(fx.issuer, fx.firstParty.client.clientId, fx.firstParty.secret);
  });
  after(async () => { await fx.close(); });

  test('fail-demoted: revoking bob\'s admin role publishes tokens.revoked (role_revoked) naming his token, which is refused at once', async () => {
    const token = await bobsAdminToken();
    assert.equal((await users(token)).status, 200);
    const published: PublishedEvent[] = [];
    const stop = fx.svc.service.context.events.subscribe((event) => published.push(event));
    try {
      await fx.svc.service.context.users.revokeRole('bob', 'admin', 'test');
    } finally {
      stop();
    }
    const event = published.map((e) => e.event).find((e): e is TokensRevoked => e.type === 'tokens.revoked');
    assert.equal(event?.reason, 'role_revoked');
    assert.equal(event?.subject, fx.users.bob);
    assert.ok(event?.tokenIds.includes(decodeJwt(token).jti!));
    assert.ok(event!.issuedBefore > 0);
    const res = await users(token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const grant = (await fx.svc.service.context.audit.list({ event: 'grant.revoked', subject: fx.users.bob })).at(-1);
    assert.equal(grant?.reason, 'role_revoked');
    await fx.svc.service.context.users.grantRole('bob', 'admin', 'test');
  });

  test('fail-revoked: after an admin\'s password change the token issued before it is 401 invalid_token', async () => {
    const token = await bobsAdminToken();
    assert.equal((await users(token)).status, 200);
    await fx.svc.service.context.users.setPassword('bob', 'Another-Quite-Long-Passphrase-77', 'test');
    const res = await users(token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="gatehouse", error="invalid_token"/);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_token');
  });

  test('fail-client-demoted: a client_credentials admin token of a client no longer registered with the admin role → 403', async () => {
    const { client, secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'ex-ops-bot', name: 'Ex ops bot', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'admin', roles: ['admin'] }, 'test');
    const token = await clientToken(client.clientId, secret!, 'admin');
    assert.equal((await users(token)).status, 200);
    // Clients have no role update: change the registration underneath, as a future update would.
    await fx.svc.service.context.store.db.updateTable('clients').set({ roles: '[]' }).where('client_id', '=', client.clientId).execute();
    const res = await users(token);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  test('fail-insufficient-scope: a service token for the issuer with only events:read → 403, even with the admin role', async () => {
    const { client, secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'watcher', name: 'Watcher', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read admin', roles: ['admin'] }, 'test');
    const res = await users(await clientToken(client.clientId, secret!, 'events:read'));
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="admin"/);
  });

  test('ok: an admin call made with a service token is audited as client:<id>, not as a user', async () => {
    const { client, secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'provisioner', name: 'Provisioner', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'admin', roles: ['admin'] }, 'test');
    const token = await clientToken(client.clientId, secret!, 'admin');
    const res = await fetch(`${fx.issuer}/admin/api/users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'hank', email: 'hank@example.com', password: 'Quartz-Lantern-Meadow-8142' }) });
    assert.equal(res.status, 201);
    const created = (await fx.svc.service.context.audit.list({ event: 'user.created' })).at(-1)!;
    assert.equal(created.actor, 'client:provisioner');
  });

  test('fail-insufficient-scope: a refused service token is audited as admin.denied by client:<id>', async () => {
    const { client, secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'lurker', name: 'Lurker', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read', roles: [] }, 'test');
    assert.equal((await users(await clientToken(client.clientId, secret!, 'events:read'))).status, 403);
    const denied = (await fx.svc.service.context.audit.list({ event: 'admin.denied' })).at(-1)!;
    assert.equal(denied.actor, 'client:lurker');
  });

  test('ok: a client_credentials token with the admin scope and role passes until the client is removed', async () => {
    const { client, secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'ops-bot', name: 'Ops bot', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'admin', roles: ['admin'] }, 'test');
    const token = await clientToken(client.clientId, secret!, 'admin');
    assert.equal((await users(token)).status, 200);
    await fx.svc.service.context.oauth.clients.remove(client.clientId, 'test');
    assert.equal((await users(token)).status, 401);
  });
});
