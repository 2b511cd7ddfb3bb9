/**
 * Removing a client with more live tokens than a database takes parameters in one statement
 * (PostgreSQL 65,535, SQLite 32,766): 70,000 issued-token rows, bulk-inserted, then the client is
 * removed. Everything is revoked in one transaction and the tokens.revoked events stay small:
 * a subject with more than MAX_EVENT_TOKEN_IDS tokens is denied by issue time, not by 70,000 jtis.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { startService, type TestService } from './helpers/service.ts';
import type { PublishedEvent, TokensRevoked } from '../src/events/types.ts';
import { MAX_EVENT_TOKEN_IDS } from '../src/oauth/revocation.ts';

const ROWS = 70_000;
const SERVICE_SUBJECT = 'bulk-svc';
const USERS = ['user-a', 'user-b', 'user-c'];

await forEachDialect('revocation at scale', (dialect) => {
  let svc: TestService;
  const published: PublishedEvent[] = [];
  before(async () => {
    svc = await startService({ dialect });
    svc.service.context.events.subscribe((event) => published.push(event));
  });
  after(async () => { await svc.close(); });

  test(`ok: removing a client with ${ROWS} live tokens revokes them all, with one small event per subject`, async () => {
    const ctx = svc.service.context;
    await ctx.oauth.clients.create({ clientId: SERVICE_SUBJECT, name: 'Bulk', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'] }, 'test');
    const now = Math.floor(Date.now() / 1000);
    const rows = Array.from({ length: ROWS }, (_, i) => {
      const subject = i < USERS.length * 2 ? USERS[i % USERS.length]! : SERVICE_SUBJECT;
      return { jti: `jti-${i}`, grant_id: null, subject, session_id: null, client_id: SERVICE_SUBJECT, expires_at: now + 600, revoked_at: null };
    });
    // 4,000 rows × 7 columns stays under both databases' parameter limits.
    for (let i = 0; i < rows.length; i += 4000) await ctx.store.db.insertInto('issued_tokens').values(rows.slice(i, i + 4000)).execute();

    const from = published.length;
    await ctx.oauth.clients.remove(SERVICE_SUBJECT, 'test');

    const live = await ctx.store.db.selectFrom('issued_tokens').select((eb) => eb.fn.countAll<number>().as('n')).where('client_id', '=', SERVICE_SUBJECT).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
    assert.equal(Number(live.n), 0, 'every token is revoked');
    const removed = await ctx.audit.list({ event: 'client.removed', latest: true, limit: 1 });
    assert.equal(removed[0]?.data?.accessTokens, ROWS);

    const events = published.slice(from).map((e) => e.event).filter((e): e is TokensRevoked => e.type === 'tokens.revoked');
    assert.deepEqual(events.map((e) => e.subject).sort(), [SERVICE_SUBJECT, ...USERS].sort(), 'one event per subject');
    for (const event of events) {
      assert.equal(event.reason, 'client_removed');
      assert.ok(event.tokenIds.length <= MAX_EVENT_TOKEN_IDS);
      assert.ok(event.until >= now + 600);
    }
    const bulk = events.find((e) => e.subject === SERVICE_SUBJECT)!;
    assert.deepEqual(bulk.tokenIds, [], 'too many to name');
    assert.ok(bulk.issuedBefore >= now, 'denied by issue time instead');
    const user = events.find((e) => e.subject === 'user-a')!;
    assert.deepEqual(user.tokenIds.sort(), ['jti-0', 'jti-3']);
    assert.equal(user.issuedBefore, 0, 'a user with few tokens keeps the other clients\' tokens');
  });
});
