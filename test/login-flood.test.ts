/**
 * Login floods through the real sign-in form, on SQLite and PostgreSQL. Hashes are counted where
 * they happen: `gatehouse_password_hashes_total` on /metrics, incremented for every argon2id run.
 *
 * - A parallel spray over many names from one address costs at most `throttle.ipLockAfter`
 *   hashes: the client's budget is checked and charged before hashing, not after.
 * - Throttled attempts are audited with the account they tried.
 * - With the hash queue full the form answers 503 with Retry-After and a "busy" message.
 * Each test's client has its own address (X-Forwarded-For from 127.0.0.1, a trusted proxy).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, authorizationUrl, Browser, formAction, formField, type OAuthFixture } from './oauth/helpers.ts';
import { createIdentity } from '../src/identity/index.ts';
import { createMetrics } from '../src/shared/metrics.ts';
import { silentLogger } from '../src/shared/logger.ts';

const IP_LOCK_AFTER = 10;
const SPRAY = 50;

/** A login form ready to post: its browser (cookies), action and CSRF token. */
async function loginForm(fx: OAuthFixture, shop: oidc.Configuration) {
  const browser = new Browser();
  const page = await browser.follow((await authorizationUrl(shop)).url.href, fx.issuer);
  const html = await page.res.text();
  return { browser, action: new URL(formAction(html, '/login'), fx.issuer).href, csrf: formField(html, 'csrf') };
}

type Form = Awaited<ReturnType<typeof loginForm>>;

async function attempt(form: Form, username: string, ip: string): Promise<{ status: number; retryAfter: string | null; page: string }> {
  const res = await form.browser.fetch(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    body: new URLSearchParams({ csrf: form.csrf, username, password: 'Wrong-Password-123' }).toString(),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), page: await res.text() };
}

async function metric(fx: OAuthFixture, name: string): Promise<number> {
  const text = await (await fetch(`${fx.svc.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((counts, s) => ({ ...counts, [s]: (counts[s] ?? 0) + 1 }), {});

await forEachDialect('login flood', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;

  before(async () => {
    fx = await startOAuthService(dialect, {
      // ipFreeAttempts above ipLockAfter: no delays, so only the lock budget stands in the way.
      config: { http: { trustedProxies: ['127.0.0.1/32'] }, throttle: { ipLockAfter: IP_LOCK_AFTER, ipFreeAttempts: 1000 } },
    });
    shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
  });
  after(async () => { await fx.close(); });

  test(`fail-spray: ${SPRAY} parallel attempts with ${SPRAY} names from one address cost at most ipLockAfter (${IP_LOCK_AFTER}) hashes`, async () => {
    const ip = '203.0.113.10';
    const forms = await Promise.all(Array.from({ length: SPRAY }, () => loginForm(fx, shop)));
    const hashes = await metric(fx, 'gatehouse_password_hashes_total');
    const results = await Promise.all(forms.map((form, i) => attempt(form, `sprayed-${i}`, ip)));
    const hashed = (await metric(fx, 'gatehouse_password_hashes_total')) - hashes;
    assert.ok(hashed <= IP_LOCK_AFTER, `${hashed} hashes for ${SPRAY} attempts`);
    assert.deepEqual(tally(results.map((r) => r.status)), { 401: IP_LOCK_AFTER, 429: SPRAY - IP_LOCK_AFTER });
    for (const refused of results.filter((r) => r.status === 429)) {
      assert.ok(Number(refused.retryAfter) >= 1);
      assert.match(refused.page, /Too many failed sign-in attempts/);
    }
    const blocked = (await fx.svc.service.context.audit.list({ event: 'ip.blocked' })).filter((row) => row.ip === ip);
    assert.equal(blocked.length, 1);
    // Locked now: the next attempt is refused without a hash.
    assert.equal((await attempt(await loginForm(fx, shop), 'alice', ip)).status, 429);
  });

  test('fail-spray-two-instances: two instances on one store share the budget (the store\'s atomic charge)', async () => {
    const ctx = fx.svc.service.context;
    // Two more authenticators on the same store: each with its own in-process queues, as two processes would be.
    const instances = [0, 1].map(() => {
      const metrics = createMetrics({ defaultMetrics: false });
      const identity = createIdentity({ store: ctx.store, audit: ctx.audit, config: ctx.config, clock: ctx.clock, logger: silentLogger(), metrics, revokeUser: async () => {} });
      return { identity, hashes: async () => (await metrics.registry.getSingleMetric('gatehouse_password_hashes_total')!.get()).values[0]?.value ?? 0 };
    });
    const before = await Promise.all(instances.map((i) => i.hashes()));
    const results = await Promise.all(Array.from({ length: SPRAY }, (_, n) => instances[n % 2]!.identity.authenticator.authenticate({ username: `split-${n}`, password: 'Wrong-Password-123', ip: '203.0.113.12' })));
    const after = await Promise.all(instances.map((i) => i.hashes()));
    const hashed = after[0]! - before[0]! + after[1]! - before[1]!;
    assert.ok(hashed <= IP_LOCK_AFTER, `${hashed} hashes for ${SPRAY} attempts on two instances`);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'invalid_credentials').length, IP_LOCK_AFTER);
  });

  test('ok: throttled attempts are audited with the account tried (user id when it exists), never the password', async () => {
    const ip = '203.0.113.11';
    for (let i = 0; i < IP_LOCK_AFTER; i++) assert.equal((await attempt(await loginForm(fx, shop), `filler-${i}`, ip)).status, 401);
    const audit = fx.svc.service.context.audit;
    const head = (await audit.list({ latest: true, limit: 1 }))[0]!.seq;
    assert.equal((await attempt(await loginForm(fx, shop), 'Alice', ip)).status, 429);
    assert.equal((await attempt(await loginForm(fx, shop), 'nobody-at-all', ip)).status, 429);
    const rows = (await audit.list({ event: 'login.failed' })).filter((row) => row.seq > head);
    assert.deepEqual(rows.map((row) => [row.subject, row.reason, row.data?.username, row.data?.scope]), [
      [fx.users.alice, 'locked', 'Alice', 'ip'],
      [null, 'locked', 'nobody-at-all', 'ip'],
    ]);
    assert.doesNotMatch(JSON.stringify(rows), /Wrong-Password-123/);
  });
});

await forEachDialect('login with the hash queue full', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;

  before(async () => {
    fx = await startOAuthService(dialect, { config: { http: { trustedProxies: ['127.0.0.1/32'] }, passwords: { maxConcurrentHashes: 1, hashQueue: 1 } } });
    shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
  });
  after(async () => { await fx.close(); });

  test('fail-busy: past the hash queue the form answers 503 with Retry-After and a busy message; nothing is charged', async () => {
    const forms = await Promise.all(Array.from({ length: 20 }, () => loginForm(fx, shop)));
    const refusedBefore = await metric(fx, 'gatehouse_password_hashes_refused_total');
    const results = await Promise.all(forms.map((form, i) => attempt(form, `crowd-${i}`, `198.51.100.${i + 1}`)));
    const busy = results.filter((r) => r.status === 503);
    assert.ok(busy.length > 0, `statuses: ${JSON.stringify(tally(results.map((r) => r.status)))}`);
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set([401, 503]));
    assert.equal((await metric(fx, 'gatehouse_password_hashes_refused_total')) - refusedBefore, busy.length);
    for (const answer of busy) {
      assert.equal(answer.retryAfter, '1');
      assert.match(answer.page, /The service is busy\. Try again in 1 second\./);
    }
    const rows = (await fx.svc.service.context.audit.list({ event: 'login.failed' })).filter((row) => row.reason === 'busy');
    assert.equal(rows.length, busy.length);
    // A busy answer is not a failure: those names and addresses have no failure counted.
    const busyIndex = results.findIndex((r) => r.status === 503);
    const throttle = await fx.svc.service.context.store.db.selectFrom('login_throttle').selectAll().where('key', 'in', [`acct:crowd-${busyIndex}`, `ip:198.51.100.${busyIndex + 1}`]).execute();
    assert.deepEqual(throttle.map((row) => Number(row.failures)).filter((n) => n > 0), []);
  });
});
