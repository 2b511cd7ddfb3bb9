/**
 * `gateway.redis`: rate-limit counters shared by gateway replicas through a real Redis. Two
 * gateways on the same configuration stand for two replicas behind a load balancer; requests
 * alternate between them. When Redis is unreachable or stops answering, each replica counts
 * alone and requests are still answered.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startAuth, startGateway, startRecordingUpstream, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { redisClient, redisSkip, testPrefix, TEST_REDIS_URL } from './helpers/redis.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

const skip = await redisSkip();

let auth: AuthFixture;
let api: RecordingUpstream;
const tokens: Record<string, string> = {};

const ROUTES = [
  { methods: ['GET'], path: '/api/limited', service: 'api', auth: 'public', rateLimit: { requests: 3, per: '1m' } },
  { methods: ['GET'], path: '/api/limited-callers', service: 'api', rateLimit: { requests: 2, per: '1m' } },
  { methods: ['GET'], path: '/api/brief', service: 'api', auth: 'public', rateLimit: { requests: 1, per: '1s' } },
];

before(async () => {
  if (skip) return;
  auth = await startAuth();
  api = await startRecordingUpstream();
  tokens.alice = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  tokens.bob = await auth.token({ sub: auth.users.bob, roles: ['staff'] });
});
after(async () => {
  await api?.close();
  await auth?.close();
});

/** Two replicas of one gateway configuration whose counters live under `keyPrefix`. */
async function replicas(redis: Record<string, unknown>, extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<[GatewayFixture, GatewayFixture]> {
  const start = () => startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { redis, ...extra }, env });
  return Promise.all([start(), start()]);
}

async function closeAll(...gateways: GatewayFixture[]): Promise<void> {
  await Promise.all(gateways.map((gateway) => gateway.close()));
}

const get = (gateway: GatewayFixture, path: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${path}`, { headers });

const fallbacks = async (gateway: GatewayFixture, reason: string): Promise<number> => {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`gatehouse_gateway_rate_limit_fallbacks_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

/** Waits until the replica's connection to Redis is up (its log says so). */
const connected = (gateway: GatewayFixture) => waitFor(() => gateway.logText().includes('gateway redis connected'), 5000, 'the gateway never connected to Redis');

describe('rate limits shared through Redis', { skip }, () => {
  test('ok: two replicas share one address\'s limit: the fourth request is refused whichever replica takes it', async () => {
    const [a, b] = await replicas({ url: TEST_REDIS_URL, keyPrefix: testPrefix() });
    try {
      await Promise.all([connected(a), connected(b)]);
      const before = api.requests.length;
      for (const replica of [a, b, a]) assert.equal((await get(replica, '/api/limited')).status, 200);
      const refused = await get(b, '/api/limited');
      assert.equal(refused.status, 429);
      assert.equal((await refused.json() as { code: string }).code, 'too_many_requests');
      const wait = Number(refused.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
      assert.equal((await get(a, '/api/limited')).status, 429, 'the other replica refuses too');
      assert.equal(api.requests.length - before, 3, 'the upstream saw exactly the three allowed requests');
      assert.equal(await fallbacks(a, 'disconnected') + await fallbacks(b, 'disconnected'), 0);
    } finally {
      await closeAll(a, b);
    }
  });

  test('ok: a caller\'s limit is shared across replicas and addresses; another caller has their own (Redis named by GATEHOUSE_GATEWAY_REDIS_URL)', async () => {
    const [a, b] = await replicas({ keyPrefix: testPrefix() }, { trustedProxies: ['127.0.0.1/32'] }, { GATEHOUSE_GATEWAY_REDIS_URL: TEST_REDIS_URL });
    try {
      await Promise.all([connected(a), connected(b)]);
      const from = (replica: GatewayFixture, ip: string, token: string) => get(replica, '/api/limited-callers', { authorization: `Bearer ${token}`, 'x-forwarded-for': ip });
      assert.equal((await from(a, '203.0.113.1', tokens.alice!)).status, 200);
      assert.equal((await from(b, '203.0.113.2', tokens.alice!)).status, 200);
      const refused = await from(a, '203.0.113.3', tokens.alice!);
      assert.equal(refused.status, 429, 'alice used up her limit on the two replicas');
      assert.match((await refused.json() as { detail: string }).detail, /caller/);
      assert.equal((await from(b, '203.0.113.4', tokens.bob!)).status, 200, 'bob has his own');
    } finally {
      await closeAll(a, b);
    }
  });

  test('ok: the window ends for every replica: one request a second, the next second allowed again', async () => {
    const [a, b] = await replicas({ url: TEST_REDIS_URL, keyPrefix: testPrefix() });
    try {
      await Promise.all([connected(a), connected(b)]);
      assert.equal((await get(a, '/api/brief')).status, 200);
      const refused = await get(b, '/api/brief');
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await get(b, '/api/brief')).status, 200);
    } finally {
      await closeAll(a, b);
    }
  });

  test('ok: a Redis user and password in the URL (ACL): counts are shared, and the password is never logged', async () => {
    const prefix = testPrefix();
    const user = `gatehouse-test-${prefix.split(':')[1]}`;
    const password = `pw-${prefix.split(':')[1]}-secret`;
    const admin = await redisClient();
    // Allowed only the keys under this test's prefix and the commands the gateway uses.
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, `~${prefix}*`, '+@string', '+@keyspace', '+@scripting', '+@transaction', '+@connection', '+client', '+hello', '+ping']);
    const url = new URL(TEST_REDIS_URL);
    url.username = user;
    url.password = password;
    const [a, b] = await replicas({ keyPrefix: prefix }, {}, { GATEHOUSE_GATEWAY_REDIS_URL: url.toString() });
    try {
      await Promise.all([connected(a), connected(b)]);
      for (const replica of [a, b, a]) assert.equal((await get(replica, '/api/limited')).status, 200);
      assert.equal((await get(b, '/api/limited')).status, 429, 'counted in Redis as that user');
      assert.equal((await admin.keys(`${prefix}*`)).length, 1);
      for (const replica of [a, b]) assert.ok(!replica.logText().includes(password), 'the password is never logged');
    } finally {
      await closeAll(a, b);
      for (const key of await admin.keys(`${prefix}*`)) await admin.del(key);
      await admin.sendCommand(['ACL', 'DELUSER', user]);
      await admin.close();
    }
  });

  test('ok: counter keys name neither the caller nor the address, and expire with their window', async () => {
    const prefix = testPrefix();
    const [a, b] = await replicas({ url: TEST_REDIS_URL, keyPrefix: prefix }, { trustedProxies: ['127.0.0.1/32'] });
    const redis = await redisClient();
    try {
      await Promise.all([connected(a), connected(b)]);
      assert.equal((await get(a, '/api/limited-callers', { authorization: `Bearer ${tokens.alice}`, 'x-forwarded-for': '198.51.100.7' })).status, 200);
      const keys = await redis.keys(`${prefix}*`);
      assert.equal(keys.length, 2, `one address and one caller counter: ${keys.join(', ')}`);
      for (const key of keys) {
        assert.doesNotMatch(key, /198\.51\.100|alice/, key);
        assert.ok(!key.includes(auth.users.alice), key);
        const ttl = await redis.pTTL(key);
        assert.ok(ttl > 0 && ttl <= 60_000, `${key} expires in ${ttl} ms`);
      }
    } finally {
      for (const key of await redis.keys(`${prefix}*`)) await redis.del(key);
      await redis.close();
      await closeAll(a, b);
    }
  });
});

test('fail-bad-redis-url: a GATEHOUSE_GATEWAY_REDIS_URL that is not a redis URL stops the start, without echoing it', { skip }, async () => {
  await assert.rejects(
    startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, env: { GATEHOUSE_GATEWAY_REDIS_URL: 'http://user:s3cret@cache:6379' } }),
    (error: Error) => /GATEHOUSE_GATEWAY_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/.test(error.message) && !error.message.includes('s3cret'),
  );
});

describe('rate limits when Redis does not answer', { skip }, () => {
  test('fail-redis-unreachable: each replica counts alone, every request is answered', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const [a, b] = await replicas({ url: `redis://:s3cret-password@127.0.0.1:${port}`, keyPrefix: testPrefix() });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(a, '/api/limited')).status, 200);
      assert.equal((await get(a, '/api/limited')).status, 429, 'the replica still enforces the limit by itself');
      assert.equal((await get(b, '/api/limited')).status, 200, 'the other replica has its own count');
      assert.ok(await fallbacks(a, 'disconnected') >= 4);
      assert.match(a.logText(), /shared rate-limit counters unavailable/);
      await new Promise((resolve) => setTimeout(resolve, 400)); // a few reconnection attempts
      assert.equal(a.logText().split('gateway redis: cannot connect, retrying in the background').length - 1, 1, 'the outage is said once, not at every retry');
      assert.doesNotMatch(a.logText(), /s3cret-password/, 'the URL\'s password is never logged');
    } finally {
      await closeAll(a, b);
    }
  });

  test('fail-redis-stalls: a Redis that stops answering costs at most the timeout, then counts are shared again', async () => {
    const redisPort = Number(new URL(TEST_REDIS_URL).port || 6379);
    const proxy = await startTcpProxy({ host: new URL(TEST_REDIS_URL).hostname, port: redisPort });
    const [a, b] = await replicas({ url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: testPrefix(), timeoutMs: 100 });
    try {
      await Promise.all([connected(a), connected(b)]);
      proxy.stall();
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        assert.equal((await get(a, '/api/limited')).status, 200);
        const took = performance.now() - started;
        assert.ok(took < 1000, `answered in ${took.toFixed(0)} ms`);
      }
      assert.equal((await get(a, '/api/limited')).status, 429, 'counted by the replica while Redis was silent');
      assert.ok(await fallbacks(a, 'timeout') >= 1, 'the silence was counted as timeouts');
      proxy.heal();
      // Redis answers again. a's counts reached it while only its answers were held back, so Redis
      // has counted four: b, which has counted nothing itself, refuses at once because it reads Redis.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = await fallbacks(b, 'timeout') + await fallbacks(b, 'error') + await fallbacks(b, 'disconnected');
      assert.equal((await get(b, '/api/limited')).status, 429);
      const after = await fallbacks(b, 'timeout') + await fallbacks(b, 'error') + await fallbacks(b, 'disconnected');
      assert.equal(after, before, 'b counted in Redis once it answered');
    } finally {
      await closeAll(a, b);
      await proxy.close();
    }
  });
});
