import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from './clock.ts';
import { createMemoryRefusalCounter, createRefusalLimiter, endpointMatcher, isRefusal, type RefusalBlock } from './refusal-limit.ts';

function limiter(maxEntries = 100) {
  const clock = frozenClock(1_000_000);
  const blocked: RefusalBlock[] = [];
  const counter = createMemoryRefusalCounter({ maxEntries });
  const limits = createRefusalLimiter({ counter, clock, settings: { limit: 3, window: 60, block: 30 }, endpoints: { oauth: [], api: [], apiPrefixes: [] }, onBlocked: async (block) => { blocked.push(block); } });
  return { clock, blocked, counter, limits };
}

const refuse = async (limits: ReturnType<typeof limiter>['limits'], ip: string, times: number) => {
  for (let i = 0; i < times; i++) await limits.refused(ip);
};

test('ok: the limit-th refusal blocks the IP once, for `block` seconds', async () => {
  const { clock, blocked, limits } = limiter();
  await refuse(limits, '192.0.2.1', 3);
  assert.equal(await limits.retryAfter('192.0.2.1'), 30);
  await limits.refused('192.0.2.1'); // in flight when the block began: neither extends it nor audits again
  assert.deepEqual(blocked, [{ ip: '192.0.2.1', bucket: '192.0.2.1', until: 1030 }]);
  assert.equal(await limits.retryAfter('192.0.2.2'), 0);
  clock.advance(30_000);
  assert.equal(await limits.retryAfter('192.0.2.1'), 0);
  await limits.refused('192.0.2.1');
  assert.equal(await limits.retryAfter('192.0.2.1'), 0, 'the count restarted after the block');
});

test('ok: refusals older than the window are forgotten', async () => {
  const { clock, limits } = limiter();
  await refuse(limits, '192.0.2.1', 2);
  clock.advance(60_000);
  await limits.refused('192.0.2.1');
  assert.equal(await limits.retryAfter('192.0.2.1'), 0);
});

test('fail-ipv6-rotation: addresses of one IPv6 /64 share one count and one block', async () => {
  const { blocked, limits } = limiter();
  await limits.refused('2001:db8:1:2::1');
  await limits.refused('2001:db8:1:2::aaaa');
  await limits.refused('2001:db8:1:2:ffff:ffff:ffff:ffff');
  assert.equal(await limits.retryAfter('2001:db8:1:2::9'), 30);
  assert.equal(await limits.retryAfter('2001:db8:1:3::1'), 0, 'the next /64 is another client');
  assert.deepEqual(blocked.map((b) => b.bucket), ['2001:db8:1:2::/64']);
});

test('ok: the map is bounded: past maxEntries the stalest counting entry goes first', async () => {
  const counter = createMemoryRefusalCounter({ maxEntries: 3 });
  const now = 1_000_000;
  for (const ip of ['a', 'b', 'c']) await counter.increment(ip, now, 60_000);
  await counter.increment('b', now, 60_000); // b is fresh again
  await counter.increment('d', now, 60_000); // full: a (stalest) is dropped
  assert.equal(await counter.increment('b', now, 60_000), 3);
  assert.equal(await counter.increment('a', now, 60_000), 1, 'a was forgotten');
});

test('fail-eviction-flood: a block lasts its full time however many fresh addresses arrive', async () => {
  const { clock, limits } = limiter(10);
  await refuse(limits, '198.51.100.1', 3);
  // 1,000 fresh addresses, one refusal each, through a table of 10.
  for (let i = 0; i < 1000; i++) await limits.refused(`10.0.${i >> 8}.${i & 255}`);
  assert.equal(await limits.retryAfter('198.51.100.1'), 30);
  clock.advance(29_000);
  assert.equal(await limits.retryAfter('198.51.100.1'), 1);
  clock.advance(1_000);
  assert.equal(await limits.retryAfter('198.51.100.1'), 0);
});

test('ok: counting entries are evicted before blocks', async () => {
  const counter = createMemoryRefusalCounter({ maxEntries: 3 });
  const now = 1_000_000;
  await counter.increment('counting', now, 60_000);
  await counter.block('blocked', now + 30_000, now);
  await counter.increment('c', now, 60_000);
  await counter.increment('d', now, 60_000); // full: `counting` goes, the block stays
  assert.equal(await counter.blockedUntil('blocked', now), now + 30_000);
  assert.equal(await counter.increment('counting', now, 60_000), 1, 'the counting entry was evicted');
});

test('fail-table-full: when only blocks are left, new addresses share one bucket, itself limited', async () => {
  const { clock, blocked, limits } = limiter(2);
  await refuse(limits, '198.51.100.1', 3);
  await refuse(limits, '198.51.100.2', 3);
  // The table holds two running blocks: fresh addresses count together.
  await limits.refused('203.0.113.1');
  await limits.refused('203.0.113.2');
  assert.equal(await limits.retryAfter('203.0.113.3'), 0);
  await limits.refused('203.0.113.3');
  assert.equal(await limits.retryAfter('203.0.113.77'), 30, 'every address without an entry is blocked now');
  assert.deepEqual(blocked.at(-1), { ip: '203.0.113.3', bucket: 'shared', until: 1030 });
  assert.equal(await limits.retryAfter('198.51.100.1'), 30, 'the first blocks still run');
  clock.advance(30_000);
  assert.equal(await limits.retryAfter('203.0.113.77'), 0, 'all blocks ran out: room again');
  assert.equal(await limits.retryAfter('198.51.100.1'), 0);
});

test('ok: only the listed routes are limited, by the route matched (never the raw URL)', () => {
  const limitedEndpoint = endpointMatcher({ oauth: ['/oauth2/token'], api: ['/pki/enroll', '/admin/api'], apiPrefixes: ['/admin/api/', '/events/'], pages: ['/interaction/:uid/login'] });
  assert.equal(limitedEndpoint('/oauth2/token'), 'oauth');
  assert.equal(limitedEndpoint('/interaction/:uid/login'), 'page');
  assert.equal(limitedEndpoint('/interaction/:uid'), undefined);
  assert.equal(limitedEndpoint('/admin/api/users/:id'), 'api');
  assert.equal(limitedEndpoint('/events/poll'), 'api');
  assert.equal(limitedEndpoint('/pki/enroll'), 'api');
  assert.equal(limitedEndpoint('/oauth2/authorize'), undefined);
  assert.equal(limitedEndpoint('/healthz'), undefined);
  assert.equal(limitedEndpoint(undefined), undefined, 'no route matched: no handler runs');
});

test('ok: a 429 is a refusal only at the sign-in form (the login throttle turning a guess away)', () => {
  assert.deepEqual([400, 401, 403, 404, 429, 500].map((status) => isRefusal(status)), [true, true, true, false, false, false]);
  assert.equal(isRefusal(429, 'page'), true);
  assert.equal(isRefusal(404, 'page'), false);
});
