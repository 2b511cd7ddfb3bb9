import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelay, retryDelayWithin, renewalDelay } from './backoff.ts';

const policy = { initialDelay: 1000, maxDelay: 30_000 };
const low = () => 0;
const high = () => 0.999999;

test('ok: delays grow by the factor and stop at maxDelay', () => {
  const bases = [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => retryDelay({ ...policy, jitter: 'none' }, attempt));
  assert.deepEqual(bases, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.deepEqual([0, 1, 2].map((a) => retryDelay({ initialDelay: 100, maxDelay: 10_000, factor: 3, jitter: 'none' }, a)), [100, 300, 900]);
  assert.equal(retryDelay({ ...policy, jitter: 'none' }, 10_000), 30_000, 'a huge attempt number is capped, not Infinity');
});

test('ok: equal jitter draws in [d/2, d]', () => {
  assert.deepEqual([retryDelay(policy, 0, low), retryDelay(policy, 0, high)], [500, 1000]);
  assert.deepEqual([retryDelay(policy, 3, low), retryDelay(policy, 3, high)], [4000, 8000]);
  assert.deepEqual([retryDelay(policy, 9, low), retryDelay(policy, 9, high)], [15_000, 30_000]);
  assert.equal(retryDelay(policy, 2, () => 0.5), 3000, 'equal is the default');
});

test('ok: full jitter draws in [0, d]', () => {
  const full = { ...policy, jitter: 'full' as const };
  assert.deepEqual([retryDelay(full, 2, low), retryDelay(full, 2, () => 0.5), retryDelay(full, 2, high)], [0, 2000, 4000]);
  assert.equal(retryDelay(full, 20, high), 30_000);
});

test('ok: with Math.random every delay stays within its band', () => {
  for (let attempt = 0; attempt < 8; attempt++) {
    const d = Math.min(30_000, 1000 * 2 ** attempt);
    for (let i = 0; i < 200; i++) {
      const delay = retryDelay(policy, attempt);
      assert.ok(delay >= d / 2 && delay <= d, `attempt ${attempt}: ${delay}`);
    }
  }
});

test('fail-bad-policy: a zero or inverted policy is a TypeError', () => {
  assert.throws(() => retryDelay({ initialDelay: 0, maxDelay: 10 }, 0), TypeError);
  assert.throws(() => retryDelay({ initialDelay: 100, maxDelay: 10 }, 0), TypeError);
});

test('ok: renewal is due at the fraction of the lifetime, never in the past', () => {
  // 60 s certificate from t=1000 s, renewed at 2/3: t = 1040 s.
  assert.equal(renewalDelay(1_000_000, 1_060_000, 2 / 3, 1_000_000), 40_000);
  assert.equal(renewalDelay(1_000_000, 1_060_000, 2 / 3, 1_030_000), 10_000);
  assert.equal(renewalDelay(1_000_000, 1_060_000, 2 / 3, 1_050_000), 0);
  assert.throws(() => renewalDelay(0, 1, 1.5, 0), TypeError);
});

test('ok: a retry never lands after expiry — capped at half the time left, jittered within the cap', () => {
  // The case: the next try 16 s out with 11 s left.
  const slow = { initialDelay: 1000, maxDelay: 30_000, jitter: 'none' as const };
  assert.equal(retryDelay(slow, 4), 16_000);
  assert.equal(retryDelayWithin(slow, 4, 11_000), 5500);
  assert.deepEqual([retryDelayWithin(policy, 4, 11_000, low), retryDelayWithin(policy, 4, 11_000, high)], [2750, 5500], 'equal jitter in [cap/2, cap]');
  assert.equal(retryDelayWithin(slow, 1, 11_000), 2000, 'a delay already within the cap is unchanged');
  assert.equal(retryDelayWithin(slow, 4, 60, high), 100, 'never below the floor');
  assert.equal(retryDelayWithin(slow, 4, 0), 16_000, 'expired: the policy alone');
  for (let left = 1; left < 40_000; left += 997) assert.ok(retryDelayWithin(policy, 6, left) <= Math.max(100, left / 2), `${left} ms left`);
});
