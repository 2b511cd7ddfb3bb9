import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExchangeCache } from './exchange-cache.ts';
import type { ExchangeResult } from './token-exchange.ts';

function setup(answers: ExchangeResult[], over: { maxEntries?: number; negativeTtl?: number } = {}) {
  let clock = 1_000_000;
  const calls: string[] = [];
  const cache = createExchangeCache({
    exchange: async (token) => { calls.push(token); return answers.shift() ?? { kind: 'refused', reason: 'invalid_grant' }; },
    maxEntries: over.maxEntries ?? 100,
    refreshBefore: 30_000,
    negativeTtl: over.negativeTtl ?? 5000,
    now: () => clock,
  });
  return { cache, calls, advance: (ms: number) => { clock += ms; } };
}

const issued = (accessToken: string, expiresIn = 300): ExchangeResult => ({ kind: 'issued', accessToken, expiresIn });

test('ok: an issued token is handed out from the cache until shortly before it expires', async () => {
  const { cache, calls, advance } = setup([issued('jwt1')]);
  assert.equal(cache.cached('d', 'gth_a', '1.2.3.4'), undefined);
  await cache.exchange('d', 'gth_a', '1.2.3.4');
  assert.equal(cache.cached('d', 'gth_a', '1.2.3.4'), 'jwt1');
  advance(269_000);
  assert.equal(cache.cached('d', 'gth_a', '1.2.3.4'), 'jwt1');
  assert.equal(calls.length, 1);
});

test('ok: within refreshBefore of expiry a hit still answers while one renewal runs in the background', async () => {
  const { cache, calls, advance } = setup([issued('jwt1'), issued('jwt2')]);
  await cache.exchange('d', 'gth_a', 'ip');
  advance(280_000);
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt1');
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt1');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.length, 2);
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt2');
});

test('fail-expired: past the expiry margin the held token is a miss', async () => {
  const { cache, advance } = setup([issued('jwt1')]);
  await cache.exchange('d', 'gth_a', 'ip');
  advance(296_000);
  assert.equal(cache.cached('d', 'gth_a', 'ip'), undefined);
});

test('ok: drop forgets the refused access token but not a newer one', async () => {
  const { cache } = setup([issued('jwt1')]);
  await cache.exchange('d', 'gth_a', 'ip');
  cache.drop('d', 'other');
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt1');
  cache.drop('d', 'jwt1');
  assert.equal(cache.cached('d', 'gth_a', 'ip'), undefined);
});

test('fail-refused: a refusal is remembered for negativeTtl, then asked again', async () => {
  const { cache, advance } = setup([{ kind: 'refused', reason: 'invalid_grant' }]);
  await cache.exchange('d', 'gth_a', 'ip');
  assert.equal(cache.recentlyRefused('d'), true);
  assert.equal(cache.recentlyRefused('other'), false);
  advance(5000);
  assert.equal(cache.recentlyRefused('d'), false);
});

test('ok: a renewal the Security Service refuses (revoked meanwhile) removes the held token', async () => {
  const { cache, advance } = setup([issued('jwt1'), { kind: 'refused', reason: 'invalid_grant' }]);
  await cache.exchange('d', 'gth_a', 'ip');
  advance(280_000);
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt1');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cache.cached('d', 'gth_a', 'ip'), undefined);
  assert.equal(cache.recentlyRefused('d'), true);
});

test('ok: unavailable keeps a held token usable', async () => {
  const { cache, advance } = setup([issued('jwt1'), { kind: 'unavailable', reason: 'unreachable' }]);
  await cache.exchange('d', 'gth_a', 'ip');
  advance(280_000);
  cache.cached('d', 'gth_a', 'ip');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cache.cached('d', 'gth_a', 'ip'), 'jwt1');
});

test('ok: concurrent exchanges of one digest share one call', async () => {
  const { cache, calls } = setup([issued('jwt1')]);
  const results = await Promise.all([cache.exchange('d', 'gth_a', 'ip'), cache.exchange('d', 'gth_a', 'ip')]);
  assert.equal(calls.length, 1);
  assert.equal(results[0], results[1]);
});

test('ok: the cache is bounded: the oldest entries go first', async () => {
  const { cache } = setup(Array.from({ length: 11 }, (_, i) => issued(`jwt${i}`)), { maxEntries: 10 });
  for (let i = 0; i < 11; i++) await cache.exchange(`d${i}`, 'gth_a', 'ip');
  assert.equal(cache.size, 10);
  assert.equal(cache.cached('d0', 'gth_a', 'ip'), undefined);
  assert.equal(cache.cached('d10', 'gth_a', 'ip'), 'jwt10');
});
