import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from './clock.ts';
import { createMemoryRefusalCounter, createRefusalLimiter, endpointMatcher } from './refusal-limit.ts';

function limiter(maxEntries = 100) {
  const clock = frozenClock(1_000_000);
  const blocked: string[] = [];
  const counter = createMemoryRefusalCounter({ maxEntries });
  const limits = createRefusalLimiter({ counter, clock, settings: { limit: 3, window: 60, block: 30 }, endpoints: { oauth: [], api: [], apiPrefixes: [] }, onBlocked: async (ip) => { blocked.push(ip); } });
  return { clock, blocked, counter, limits };
}

test('ok: the limit-th refusal blocks the IP once, for `block` seconds', async () => {
  const { clock, blocked, limits } = limiter();
  for (let i = 0; i < 3; i++) await limits.refused('a');
  assert.equal(await limits.retryAfter('a'), 30);
  await limits.refused('a'); // in flight when the block began: neither extends it nor audits again
  assert.deepEqual(blocked, ['a']);
  assert.equal(await limits.retryAfter('b'), 0);
  clock.advance(30_000);
  assert.equal(await limits.retryAfter('a'), 0);
  await limits.refused('a');
  assert.equal(await limits.retryAfter('a'), 0, 'the count restarted after the block');
});

test('ok: refusals older than the window are forgotten', async () => {
  const { clock, limits } = limiter();
  await limits.refused('a');
  await limits.refused('a');
  clock.advance(60_000);
  await limits.refused('a');
  assert.equal(await limits.retryAfter('a'), 0);
});

test('ok: the map is bounded: past maxEntries the stalest entry goes first', async () => {
  const counter = createMemoryRefusalCounter({ maxEntries: 3 });
  const now = 1_000_000;
  for (const ip of ['a', 'b', 'c']) await counter.increment(ip, now, 60_000);
  await counter.increment('b', now, 60_000); // b is fresh again
  await counter.increment('d', now, 60_000); // full: a (stalest) is dropped
  assert.equal(await counter.increment('b', now, 60_000), 3);
  assert.equal(await counter.increment('a', now, 60_000), 1, 'a was forgotten');
});

test('ok: only the listed endpoints are limited', () => {
  const limitedEndpoint = endpointMatcher({ oauth: ['/oauth2/token'], api: ['/pki/enroll', '/admin/api'], apiPrefixes: ['/admin/api/', '/events/'] });
  assert.equal(limitedEndpoint('/oauth2/token?x=1'), 'oauth');
  assert.equal(limitedEndpoint('/admin/api/users'), 'api');
  assert.equal(limitedEndpoint('/events/poll'), 'api');
  assert.equal(limitedEndpoint('/pki/enroll'), 'api');
  assert.equal(limitedEndpoint('/oauth2/authorize'), undefined);
  assert.equal(limitedEndpoint('/healthz'), undefined);
});
