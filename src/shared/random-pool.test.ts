import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytesPool } from './random.ts';

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
