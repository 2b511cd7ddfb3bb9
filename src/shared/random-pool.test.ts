import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytesPool, randomHexPool } from './random.ts';

test('ok: pooled random bytes come in the asked sizes and never repeat, across refills that leave a remainder', () => {
  const take = randomBytesPool(10); // 4 + 4 fit, the third take refills
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const bytes = take(4);
    assert.equal(bytes.length, 4);
    const hex = bytes.toString('hex');
    assert.ok(!seen.has(hex), `repeated ${hex}`);
    seen.add(hex);
  }
});

test('ok: pooled random hex comes in the asked lengths, lower-case, never repeating, across refills that leave a remainder', () => {
  const take = randomHexPool(10); // 20 hex digits: 8 + 8 fit, the third take refills
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const hex = take(8);
    assert.match(hex, /^[0-9a-f]{8}$/);
    assert.ok(!seen.has(hex), `repeated ${hex}`);
    seen.add(hex);
  }
});
