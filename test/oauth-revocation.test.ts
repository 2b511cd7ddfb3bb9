/**
 * Revocation that must be all-or-nothing: removing a client revokes what it holds; disabling a
 * user or changing a password revokes inside the same transaction (an injected failure of the
 * revocation leaves the user unchanged); events published in a transaction reach listeners only
 * after it commits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { sql } from 'kysely';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, revokedSince, rp, codeFlow, basic, tokenRequest, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';
import { GatehouseError } from '../src/shared/errors.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import type { AuditEvent } from '../src/events/audit.ts';

const OFFLINE = { scope: 'openid offline_access books:read', prompt: 'consent' };

function claims(jwt: string): { jti: string; sub: string; iat: number; exp: number; sid?: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string; sub: string; iat: number; exp: number };
}

await forEachDialect('oauth revocation', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  before(async () => { ({ fx, shop, published } = await startShopFixture(dialect)); });
  after(async () => { await fx.close(); });

  const ctx = () => fx.svc.service.context;
  const introspect = async (token: string) => {
    const res = await fetch(`${fx.issuer}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('orders-svc', fx.service.secret) }, body: new URLSearchParams({ token }).toString() });
    return (await res.json() as { active: boolean }).active;
  };
  const count = async (table: 'security_events' | 'oidc_models' | 'audit_log', event?: AuditEvent) => {
    let q = ctx().store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'));
    if (event !== undefined) q = q.where('event' as never, '=', event as never);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const now = () => Math.floor(Date.now() / 1000);

  test('ok: removing a client revokes its refresh tokens and access tokens and publishes them', async () => {
    const { client, secret } = await ctx().oauth.clients.create({ clientId: 'short-lived', name: 'Short-lived app', firstParty: true, redirectUris: ['http://127.0.0.1:9/callback'], grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid offline_access books:read' }, 'test');
    const app = await rp(fx.issuer, client.clientId, secret!);
    const { tokens } = await codeFlow(app, fx.issuer, { params: OFFLINE });
    const access = claims(tokens.access_token);
    assert.equal(await introspect(tokens.access_token), true);
    const from = published.length;
    await ctx().oauth.clients.remove('short-lived', 'test');
    const refresh = await tokenRequest(fx.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, basic('short-lived', secret!));
    assert.equal(refresh.status, 401);
    assert.equal((await refresh.json() as { error: string }).error, 'invalid_client');
    assert.equal(await introspect(tokens.access_token), false);
    const events = revokedSince(published, from);
    assert.equal(events.length, 1);
    assert.deepEqual(events[0], { type: 'tokens.revoked', subject: fx.users.alice, tokenIds: [access.jti], issuedBefore: 0, until: access.exp, reason: 'client_removed' });
    const grantsLeft = await ctx().store.db.selectFrom('oidc_models').select('id').where('model', 'in', ['Grant', 'RefreshToken', 'AuthorizationCode']).where('payload', 'like', '%short-lived%').execute();
    assert.deepEqual(grantsLeft, []);
    const audit = (await ctx().audit.list({ event: 'client.removed', latest: true, limit: 1 }))[0];
    assert.equal(audit?.subject, 'short-lived');
    assert.equal(audit?.reason, 'client_removed');
    assert.deepEqual(audit?.data, { grants: 1, accessTokens: 1 });
    // The shop's tokens of the same user are untouched.
    const other = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    assert.ok((await oidc.refreshTokenGrant(shop, other.tokens.refresh_token!)).access_token);
  });

  test('fail-revocation-error: password change and disable roll back whole when revoking fails', async () => {
    const db = ctx().store.db;
    const erin = await ctx().users.create({ username: 'erin', email: 'erin@example.com', password: PASSWORD, roles: [] }, 'test');
    const { tokens } = await codeFlow(shop, fx.issuer, { username: 'erin', params: OFFLINE });
    // Marking erin's access token revoked (an UPDATE of issued_tokens) fails mid-transaction.
    if (dialect === 'postgres') {
      await sql`create function gatehouse_test_fail() returns trigger language plpgsql as $$ begin raise exception 'injected revocation failure'; end $$`.execute(db);
      await sql`create trigger gatehouse_test_fail before update on issued_tokens for each row execute function gatehouse_test_fail()`.execute(db);
    } else {
      await sql`create trigger gatehouse_test_fail before update on issued_tokens begin select raise(abort, 'injected revocation failure'); end`.execute(db);
    }
    try {
      const before = { hash: (await db.selectFrom('users').select(['password_hash', 'status', 'updated_at']).where('id', '=', erin.id).executeTakeFirstOrThrow()), events: await count('security_events'), models: await count('oidc_models'), audit: await count('audit_log') };
      const from = published.length;
      const isInternal = (error: unknown) => error instanceof GatehouseError && error.code === 'internal_error' && /nothing was changed/.test(error.message);
      await assert.rejects(ctx().users.setPassword('erin', 'a completely new passphrase', 'test'), isInternal);
      await assert.rejects(ctx().users.disable('erin', 'test'), isInternal);
      assert.deepEqual(await db.selectFrom('users').select(['password_hash', 'status', 'updated_at']).where('id', '=', erin.id).executeTakeFirstOrThrow(), before.hash);
      assert.equal(await count('security_events'), before.events, 'no revocation event stored');
      assert.equal(await count('oidc_models'), before.models, 'no grant deleted');
      assert.equal(await count('audit_log'), before.audit, 'no password.changed / user.disabled / grant.revoked entry');
      assert.equal(published.length, from, 'no event delivered');
      assert.equal((await db.selectFrom('issued_tokens').select('revoked_at').where('jti', '=', claims(tokens.access_token).jti).executeTakeFirstOrThrow()).revoked_at, null);
      // The old password and the stolen refresh token still work: nothing was half-done.
      assert.equal((await ctx().authenticator.authenticate({ username: 'erin', password: PASSWORD, ip: '10.9.9.9' })).ok, true);
      assert.ok((await oidc.refreshTokenGrant(shop, tokens.refresh_token!)).access_token);
    } finally {
      await sql`drop trigger gatehouse_test_fail${sql.raw(dialect === 'postgres' ? ' on issued_tokens' : '')}`.execute(db);
      if (dialect === 'postgres') await sql`drop function gatehouse_test_fail()`.execute(db);
    }
  });

  test('ok: a password change revokes in its transaction and publishes exactly one event with every field', async () => {
    const frank = await ctx().users.create({ username: 'frank', email: 'frank@example.com', password: PASSWORD, roles: [] }, 'test');
    const first = await codeFlow(shop, fx.issuer, { username: 'frank', params: OFFLINE });
    const second = await oidc.refreshTokenGrant(shop, first.tokens.refresh_token!);
    const jtis = [claims(first.tokens.access_token).jti, claims(second.access_token).jti].sort();
    const from = published.length;
    const eventsBefore = await count('security_events');
    const started = now();
    await ctx().users.setPassword('frank', 'a completely new passphrase', 'user:admin');
    const finished = now();
    const events = revokedSince(published, from);
    assert.equal(events.length, 1, 'exactly one tokens.revoked');
    assert.equal(await count('security_events'), eventsBefore + 1);
    const event = events[0]!;
    assert.equal(event.subject, frank.id);
    assert.equal(event.sessionId, undefined, 'a password change ends every session');
    assert.equal(event.reason, 'password_changed');
    assert.deepEqual([...event.tokenIds].sort(), jtis);
    assert.ok(event.issuedBefore >= started && event.issuedBefore <= finished, `issuedBefore ${event.issuedBefore}`);
    assert.equal(event.until, Math.max(claims(first.tokens.access_token).exp, claims(second.access_token).exp));
    await assert.rejects(oidc.refreshTokenGrant(shop, second.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    const audit = (await ctx().audit.list({ event: 'grant.revoked', subject: frank.id }));
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, 'user:admin');
    assert.equal(audit[0]?.reason, 'password_changed');

    // Disabling now: nothing outstanding, so the event names no token and expires at once.
    const next = published.length;
    await ctx().users.disable('frank', 'test');
    const disabled = revokedSince(published, next);
    assert.equal(disabled.length, 1);
    assert.equal(disabled[0]!.reason, 'user_disabled');
    assert.deepEqual(disabled[0]!.tokenIds, []);
    assert.equal(disabled[0]!.until, disabled[0]!.issuedBefore);
  });

  test('ok: an event published in a transaction is stored and delivered only if it commits', async () => {
    const store = ctx().store;
    const events = ctx().events;
    const from = published.length;
    const head = await events.head();
    const event = { type: 'tokens.revoked' as const, subject: 'tx-test', tokenIds: [], issuedBefore: 1, until: 2, reason: 'logout' };
    await assert.rejects(store.transaction(async (trx) => {
      await events.publish(event, { trx });
      throw new Error('roll back');
    }), /roll back/);
    assert.equal(await events.head(), head);
    assert.equal(published.length, from);
    let deliveredInside = true;
    const stored = await store.transaction(async (trx) => {
      const result = await events.publish(event, { trx });
      deliveredInside = published.length > from;
      return result;
    });
    assert.equal(deliveredInside, false, 'not delivered before the commit');
    assert.equal(published.length, from + 1);
    assert.equal(published.at(-1)?.seq, stored.seq);
    assert.equal(await events.head(), stored.seq);
  });
});
