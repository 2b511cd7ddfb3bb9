import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSerial } from './x509.ts';

test('ok: serials are 128-bit positive hex, first octet non-zero, never repeated across pool refills', () => {
  const serials = Array.from({ length: 1000 }, () => randomSerial());
  assert.equal(new Set(serials).size, serials.length);
  for (const serial of serials) {
    assert.match(serial, /^[0-9a-f]{32}$/);
    const first = Number.parseInt(serial.slice(0, 2), 16);
    assert.ok(first >= 0x40 && first <= 0x7f, `first octet ${serial.slice(0, 2)}`);
  }
});
