/**
 * Browser sessions across gateway replicas. A browser's parallel requests with an expiring cookie
 * reach two replicas at once: without shared state each refreshes with the same refresh token, and
 * the Security Service takes the second presentation for theft and ends the grant; with
 * `gateway.redis` the replicas refresh once between them and both set the same new cookie.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from '../src/shared/clock.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { connectRedis, type GatewayRedis } from '../src/gateway/redis.ts';
import { Browser } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';
import { redisClient, redisSkip, testPrefix, TEST_REDIS_URL } from './helpers/redis.ts';
import { randomBytes } from 'node:crypto';
import { waitFor, startAuth, startGateway, startRecordingUpstream, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { startSsoService, startFront, signInThroughGateway, reach, verifyAccessToken, newCookieKey, type SsoFixture, type Front } from './gateway-sso/helpers.ts';

const skip = await redisSkip();
const COOKIE = 'gatehouse_session';
const TTL = 600; // tokens.accessTokenTtl of the Security Service (default)
const REFRESH_BEFORE = 60; // gateway.sso.refreshBefore (default)

describe('browser sessions across two gateway replicas', { skip }, () => {
  let fx: SsoFixture;
  const clock = frozenClock(Date.now());
  const prefix = testPrefix();
  const fronts: Front[] = [];
  const connections: GatewayRedis[] = [];
  let port: number;

  /** A replica on the shared public origin: same cookie key, its own Redis connection when `shared`. */
  async function replica(key: Uint8Array, shared: boolean, ownPort?: number): Promise<Front> {
    let redis: GatewayRedis | undefined;
    if (shared) {
      redis = connectRedis({ url: TEST_REDIS_URL, keyPrefix: prefix, timeoutMs: 500, logger: silentLogger() });
      connections.push(redis);
      await waitFor(() => redis!.client.isReady, 5000, 'no connection to Redis');
    }
    const front = await startFront(fx, { clock, cookieKey: key, publicUrl: `http://127.0.0.1:${port}`, ...(ownPort ? { port: ownPort } : {}), ...(redis ? { redis } : {}) });
    fronts.push(front);
    return front;
  }

  before(async () => {
    port = await freePort();
    fx = await startSsoService([`http://127.0.0.1:${port}`]);
  });
  after(async () => {
    for (const front of fronts) await front.close();
    for (const redis of connections) redis.close();
    await fx.close();
  });

  /** Signs in through `first`; then six requests at once with the expiring cookie, alternating between the replicas. */
  async function parallelRefresh(first: Front, second: Front): Promise<{ browser: Browser; answers: Array<{ status: number; token?: string }> }> {
    clock.set(Date.now());
    const browser = new Browser();
    assert.equal((await signInThroughGateway(browser, first, fx.issuer)).status, 303);
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const answers = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const res = await browser.fetch(reach(i % 2 === 0 ? first : second, '/api/me'), { headers: { accept: 'application/json' } });
      return res.status === 200 ? { status: 200, token: ((await res.json()) as { token: string }).token } : { status: res.status };
    }));
    return { browser, answers };
  }

  test('ok: with gateway.redis the replicas refresh once between them; both answer with the new token and the grant survives', async () => {
    const key = newCookieKey();
    const a = await replica(key, true, port);
    const b = await replica(key, true);
    const { browser, answers } = await parallelRefresh(a, b);
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(new Set(answers.map((answer) => answer.token)).size, 1, 'one refresh, shared by both replicas');
    await verifyAccessToken(answers[0]!.token!, fx);

    // Redis holds the outcome sealed: no token in clear.
    const redis = await redisClient();
    try {
      const keys = await redis.keys(`${prefix}refresh:*`);
      assert.ok(keys.length > 0, 'the outcome is kept for late requests');
      for (const stored of keys) {
        const value = (await redis.get(stored)) ?? '';
        assert.ok(!value.includes(answers[0]!.token!), `${stored} holds the access token in clear`);
        assert.ok(!value.includes(answers[0]!.token!.split('.')[1]!), `${stored} holds the token's claims`);
      }
    } finally {
      await redis.close();
    }

    // The grant is intact (no refresh-token reuse was detected): the next refresh works, on either replica.
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const next = await browser.fetch(reach(b, '/api/me'), { headers: { accept: 'application/json' } });
    assert.equal(next.status, 200);
    assert.notEqual(((await next.json()) as { token: string }).token, answers[0]!.token);
  });

  test('fail-redis-unreachable: a replica whose Redis does not answer refreshes by itself; the session goes on', async () => {
    const key = newCookieKey();
    const redis = connectRedis({ url: 'redis://127.0.0.1:1', keyPrefix: prefix, timeoutMs: 100, logger: silentLogger() });
    connections.push(redis);
    const lone = await startFront(fx, { clock, cookieKey: key, publicUrl: `http://127.0.0.1:${port}`, redis });
    fronts.push(lone);
    const { answers } = await parallelRefresh(lone, lone);
    assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(new Set(answers.map((answer) => answer.token)).size, 1, 'one refresh in this replica');
  });

  test('fail-no-shared-state: replicas without gateway.redis both refresh; the Security Service sees a reused refresh token and ends the session', async () => {
    // This is why the shared refresh exists: the same browser, the same requests, the same Security Service.
    const key = newCookieKey();
    const c = await replica(key, false);
    const d = await replica(key, false);
    const { answers } = await parallelRefresh(c, d);
    assert.ok(answers.some((answer) => answer.status === 401), `statuses: ${answers.map((answer) => answer.status).join(', ')}`);
  });
});

describe('browser sessions across two real gateways sharing gateway.redis', { skip }, () => {
  let auth: AuthFixture;
  let upstream: RecordingUpstream;
  const gateways: GatewayFixture[] = [];

  after(async () => {
    for (const gateway of gateways) await gateway.close();
    await upstream?.close();
    await auth?.close();
  });

  test('ok: parallel requests through both gateways with 30 s access tokens (every request refreshes) all pass, and the session goes on', async () => {
    auth = await startAuth();
    upstream = await startRecordingUpstream();
    const [port, otherPort] = [await freePort(), await freePort()];
    const publicUrl = `http://127.0.0.1:${port}`;
    const client = await auth.svc.service.context.oauth.clients.create({
      clientId: 'gateway-web-short', name: 'Gateway', firstParty: true, accessTokenTtl: 30,
      redirectUris: [`${publicUrl}/login/callback`], postLogoutRedirectUris: [`${publicUrl}/`],
      grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile email offline_access',
    }, 'test');
    const cookieKey = randomBytes(32).toString('base64');
    const keyPrefix = testPrefix();
    for (const listen of [port, otherPort]) {
      const gateway = await startGateway(auth, {
        services: { app: [upstream.url] },
        routes: [{ methods: ['GET'], path: '/api/**', service: 'app' }],
        gateway: { listen: { host: '127.0.0.1', port: listen }, publicUrl, sso: { clientId: 'gateway-web-short' }, redis: { url: TEST_REDIS_URL, keyPrefix } },
        env: { GATEHOUSE_GATEWAY_SSO_SECRET: client.secret!, GATEHOUSE_GATEWAY_COOKIE_KEY: cookieKey },
      });
      gateways.push(gateway);
      await waitFor(() => gateway.logText().includes('gateway redis connected'), 5000, 'the gateway never connected to Redis');
    }
    const [one, two] = gateways as [GatewayFixture, GatewayFixture];
    const browser = new Browser();
    assert.equal((await signInThroughGateway(browser, { url: one.url, publicUrl }, auth.issuer)).status, 303);
    const statuses = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await browser.fetch(`${(i % 2 === 0 ? one : two).url}/api/orders`, { headers: { accept: 'application/json' } })).status));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200]);
    const bearers = new Set(upstream.requests.slice(-6).map((request) => request.header('authorization')[0]));
    assert.equal(bearers.size, 1, 'one refresh, its token forwarded by both gateways');
    // The grant survived: the next request refreshes again, through the other gateway.
    const next = await browser.fetch(`${two.url}/api/orders`, { headers: { accept: 'application/json' } });
    assert.equal(next.status, 200);
    assert.notEqual(upstream.requests.at(-1)!.header('authorization')[0], [...bearers][0]);
  });
});
