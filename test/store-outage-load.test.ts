/**
 * PostgreSQL goes away under load and comes back: 30 clients rotate refresh tokens through the
 * real token endpoint (openid-client) while a TCP proxy between the service and PostgreSQL drops
 * every connection and refuses new ones. The process must stay up (a pg client losing its
 * connection while checked out of the pool once killed it with an unhandled 'error' event),
 * answer 503 `temporarily_unavailable` with Retry-After during the cut, and serve again once the
 * connection heals, without a restart. The admin API answers 503 `store_unavailable` meanwhile.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { postgresSkip, TEST_POSTGRES_URL } from './helpers/postgres.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { startOAuthService, rp, codeFlow, Browser, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';

const WORKERS = 30;
const OFFLINE = { scope: 'openid offline_access books:read', prompt: 'consent' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome { status: number; error?: string | undefined; retryAfter?: string | null | undefined }

/** One refresh through openid-client; the status, OAuth error and Retry-After of a failure. */
async function refresh(shop: oidc.Configuration, token: string): Promise<{ outcome: Outcome; next?: string }> {
  try {
    const tokens = await oidc.refreshTokenGrant(shop, token);
    return { outcome: { status: 200 }, next: tokens.refresh_token! };
  } catch (error) {
    // oauth4webapi parses OAuth error bodies of 400/401 only; a 503 comes back as the cause.
    const e = error as { status?: number; error?: string; response?: Response; cause?: unknown };
    const response = e.response ?? (e.cause instanceof Response ? e.cause : undefined);
    if (!response) throw error;
    const body = e.error === undefined ? ((await response.json().catch(() => ({}))) as { error?: string }) : { error: e.error };
    return { outcome: { status: response.status, error: body.error, retryAfter: response.headers.get('retry-after') } };
  }
}

function summary(outcomes: Record<string, Outcome[]>): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(outcomes).map(([phase, list]) => [phase, Object.fromEntries([...Map.groupBy(list, (o) => `${o.status} ${o.error ?? ''}`)].map(([k, v]) => [k, v.length]))]));
}

describe('store outage under load [postgres]', { skip: await postgresSkip() }, () => {
  let proxy: TcpProxy;
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let adminToken: string;
  const unexpected: unknown[] = [];
  const onUncaught = (error: unknown) => { unexpected.push(error); };

  before(async () => {
    process.on('uncaughtException', onUncaught);
    const target = new URL(TEST_POSTGRES_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    fx = await startOAuthService('postgres', { routeDatabase: (url) => proxy.route(url) });
    shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
    const now = Math.floor(Date.now() / 1000);
    adminToken = await fx.svc.service.context.keys.sign({ iss: fx.issuer, aud: fx.issuer, sub: fx.users.bob, client_id: 'shop', scope: 'admin', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 300 }, { typ: 'at+jwt' });
  });
  after(async () => {
    proxy.heal();
    await fx.close();
    await proxy.close();
    process.off('uncaughtException', onUncaught);
  });

  test('fail-store-cut: 30 concurrent refresh rotations through a cut connection get 503 temporarily_unavailable and the process stays up', async () => {
    const browser = new Browser();
    const tokens: string[] = [];
    for (let i = 0; i < WORKERS; i++) tokens.push((await codeFlow(shop, fx.issuer, { params: OFFLINE, browser })).tokens.refresh_token!);

    type Phase = 'before' | 'cut' | 'healed';
    let phase = 'before' as Phase;
    const outcomes: Record<Phase, Outcome[]> = { before: [], cut: [], healed: [] };
    let running = true;
    const workers = tokens.map(async (initial) => {
      let current = initial;
      while (running) {
        const started = phase;
        const { outcome, next } = await refresh(shop, current);
        // A request that spans the cut or the heal counts as one during the cut.
        outcomes[started === phase ? started : 'cut'].push(outcome);
        if (next) current = next;
        if (outcome.status >= 400 && outcome.status < 500) return; // a lost grant: this client stops
        if (outcome.status !== 200) await sleep(50);
      }
    });
    await sleep(1500);
    phase = 'cut';
    proxy.cut();
    await sleep(300);
    // The admin API and /readyz during the cut: problem details, not a crash or a 500.
    const admin = await fetch(`${fx.issuer}/admin/api/users`, { headers: { authorization: `Bearer ${adminToken}` } });
    const problem = (await admin.json()) as { code?: string };
    assert.equal(admin.status, 503, JSON.stringify(problem));
    assert.equal(problem.code, 'store_unavailable');
    assert.match(admin.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    assert.equal((await fetch(`${fx.issuer}/readyz`)).status, 503);
    await sleep(2200);
    proxy.heal();
    await sleep(500);
    phase = 'healed';
    await sleep(1500);
    running = false;
    await Promise.all(workers);

    assert.deepEqual(unexpected, [], 'nothing reached the process as an uncaught error');
    assert.ok(outcomes.before.length >= WORKERS && outcomes.before.every((o) => o.status === 200), 'all refreshes succeed before the cut');
    const during = outcomes.cut.filter((o) => o.status !== 200);
    assert.ok(during.length > 0, 'requests were refused during the cut');
    assert.ok(during.some((o) => o.status === 503), 'at least one 503 during the cut');
    for (const o of during) {
      assert.equal(o.status, 503, JSON.stringify(o));
      assert.equal(o.error, 'temporarily_unavailable');
      assert.match(o.retryAfter ?? '', /^[1-9][0-9]*$/);
    }
    // A rotation the cut interrupted was undone once the store answered: every client carries on.
    assert.ok(outcomes.healed.length >= WORKERS, `refreshes after the heal: ${JSON.stringify(summary(outcomes))}`);
    assert.ok(outcomes.healed.every((o) => o.status === 200), `every refresh succeeds after the heal: ${JSON.stringify(summary(outcomes))}`);
  });

  test('ok: after the heal the same service signs users in and issues client_credentials tokens', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    assert.ok((await oidc.refreshTokenGrant(shop, tokens.refresh_token!)).access_token);
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'books:read' }, basic('orders-svc', fx.service.secret));
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${fx.issuer}/readyz`)).status, 200);
  });
});
