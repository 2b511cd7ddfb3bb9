/**
 * client_credentials tokens: those carrying admin rights are recorded and audited (so they can be
 * revoked and named when their client is removed), the others only counted; a client may have
 * its own access-token lifetime; the default audience derives from the issuer.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { startService } from './helpers/service.ts';
import { startShopFixture, revokedSince, tokenRequest, basic, codeFlow, rp, CALLBACK, type OAuthFixture } from './oauth/helpers.ts';
import type { PublishedEvent } from '../src/events/types.ts';

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

await forEachDialect('client_credentials tokens', (dialect) => {
  let fx: OAuthFixture;
  let published: PublishedEvent[];
  before(async () => { ({ fx, published } = await startShopFixture(dialect)); });
  after(async () => { await fx.close(); });

  const ctx = () => fx.svc.service.context;
  const register = (clientId: string, extra: { scope: string; roles?: string[]; accessTokenTtl?: number }) =>
    ctx().oauth.clients.create({ clientId, name: clientId, firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], ...extra }, 'test');
  const issue = async (clientId: string, secret: string, form: Record<string, string>) => {
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', ...form }, basic(clientId, secret));
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const recorded = async (jti: unknown) => ctx().store.db.selectFrom('issued_tokens').selectAll().where('jti', '=', String(jti)).executeTakeFirst();

  test('ok: a token with the admin scope is recorded and audited service_token.issued', async () => {
    const { secret } = await register('ops-admin', { scope: 'admin', roles: ['admin'] });
    const token = await issue('ops-admin', secret!, { scope: 'admin', resource: fx.issuer });
    const { jti } = claims(token);
    const row = await recorded(jti);
    assert.equal(row?.client_id, 'ops-admin');
    assert.equal(row?.subject, 'ops-admin');
    const audit = await ctx().audit.list({ event: 'service_token.issued', latest: true, limit: 1 });
    assert.equal(audit[0]?.data?.jti, jti);
    assert.equal(audit[0]?.actor, 'client:ops-admin');
    assert.equal(audit[0]?.data?.scope, 'admin');
  });

  test('ok: a token of a client with the admin role (no admin scope) is recorded', async () => {
    const { secret } = await register('ops-role', { scope: 'books:read', roles: ['admin'] });
    const token = await issue('ops-role', secret!, { scope: 'books:read' });
    assert.deepEqual(claims(token).roles, ['admin']);
    assert.ok(await recorded(claims(token).jti));
  });

  test('ok: other client_credentials tokens are not recorded or audited, only counted', async () => {
    const seq = (await ctx().audit.list({ latest: true, limit: 1 }))[0]?.seq ?? 0;
    const token = await issue('orders-svc', fx.service.secret, { scope: 'books:read' });
    assert.deepEqual(claims(token).roles, ['staff'], 'roles and scopes are carried as before');
    assert.equal(claims(token).scope, 'books:read');
    assert.equal(await recorded(claims(token).jti), undefined);
    assert.deepEqual((await ctx().audit.list({ since: 0, limit: 10_000 })).filter((r) => r.seq > seq && r.event === 'service_token.issued'), []);
    const metrics = await (await fetch(`${fx.issuer}/metrics`)).text();
    assert.match(metrics, /gatehouse_client_credentials_tokens_total\{recorded="false"\} [1-9]/);
  });

  test('ok: removing an admin client names its recorded tokens in tokens.revoked', async () => {
    const { secret } = await register('ops-gone', { scope: 'admin', roles: ['admin'] });
    const jti = claims(await issue('ops-gone', secret!, { scope: 'admin', resource: fx.issuer })).jti;
    const from = published.length;
    await ctx().oauth.clients.remove('ops-gone', 'test');
    const events = revokedSince(published, from);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.subject, 'ops-gone');
    assert.deepEqual(events[0]!.tokenIds, [jti]);
    assert.notEqual((await recorded(jti))?.revoked_at, null);
  });

  test('ok: a client registered with a 5 s access-token lifetime gets exp − iat = 5; another client the default', async () => {
    const { client, secret } = await register('quick-svc', { scope: 'books:read', roles: ['staff'], accessTokenTtl: 5 });
    assert.equal(client.accessTokenTtl, 5);
    const quick = claims(await issue('quick-svc', secret!, { scope: 'books:read' }));
    assert.equal(Number(quick.exp) - Number(quick.iat), 5);
    assert.deepEqual(quick.roles, ['staff']);
    const usual = claims(await issue('orders-svc', fx.service.secret, { scope: 'books:read' }));
    assert.equal(Number(usual.exp) - Number(usual.iat), fx.svc.config.tokens.accessTokenTtl);
  });

  test('ok: a user-facing client\'s own lifetime applies to its code-flow access tokens', async () => {
    const { secret } = await ctx().oauth.clients.create({ clientId: 'kiosk', name: 'Kiosk', firstParty: true, redirectUris: [CALLBACK], grantTypes: ['authorization_code'], accessTokenTtl: 30 }, 'test');
    const { tokens } = await codeFlow(await rp(fx.issuer, 'kiosk', secret), fx.issuer);
    const at = claims(tokens.access_token);
    assert.equal(Number(at.exp) - Number(at.iat), 30);
  });

  test('fail-ttl-too-long: a lifetime beyond tokens.maxAccessTokenTtl is refused', async () => {
    await assert.rejects(register('slow-svc', { scope: 'books:read', accessTokenTtl: fx.svc.config.tokens.maxAccessTokenTtl + 1 }), (error: { code?: string }) => error.code === 'validation_failed');
  });
});

describe('default audience', () => {
  test('ok: without configured resources, access tokens are for <issuer>/api', async () => {
    const svc = await startService({ config: { resources: undefined } });
    try {
      const { secret } = await svc.service.context.oauth.clients.create({ clientId: 'svc', name: 'svc', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'] }, 'test');
      const res = await tokenRequest(svc.url, { grant_type: 'client_credentials' }, basic('svc', secret!));
      assert.equal(res.status, 200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      assert.equal(claims(token).aud, `${svc.config.issuer}/api`);
      assert.notEqual(svc.config.issuer, 'http://localhost:8080');
    } finally {
      await svc.close();
    }
  });
});
