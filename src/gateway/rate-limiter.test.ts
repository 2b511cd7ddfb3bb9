import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from './rate-limiter.ts';

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
};

test('ok: a key gets `requests` per window, then the seconds until the window ends', () => {
  const time = clock();
  const limiter = createRateLimiter({ requests: 2, per: 10, now: time.now });
  assert.equal(limiter.take('a'), 0);
  assert.equal(limiter.take('a'), 0);
  time.advance(2500);
  assert.equal(limiter.take('a'), 8);
  assert.equal(limiter.take('b'), 0, 'keys are counted apart');
});

test('ok: a new window starts when the old one ends', () => {
  const time = clock();
  const limiter = createRateLimiter({ requests: 1, per: 1, now: time.now });
  assert.equal(limiter.take('a'), 0);
  assert.equal(limiter.take('a'), 1);
  time.advance(1000);
  assert.equal(limiter.take('a'), 0);
});

test('ok: memory is bounded: ended windows are swept first, then the oldest key goes', () => {
  const time = clock();
  const limiter = createRateLimiter({ requests: 1, per: 10, maxKeys: 3, now: time.now });
  for (const key of ['a', 'b', 'c']) limiter.take(key);
  time.advance(10_000);
  limiter.take('d');
  assert.equal(limiter.size, 1, 'the three ended windows were swept');
  for (const key of ['e', 'f']) limiter.take(key);
  limiter.take('g');
  assert.equal(limiter.size, 3);
  assert.equal(limiter.take('d'), 0, 'the oldest key was forgotten and starts afresh');
  assert.equal(limiter.take('g'), 10, 'a recent key keeps its count');
});
