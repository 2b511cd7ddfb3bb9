import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from '../../shared/clock.ts';
import { createPollingGate } from './polling.ts';

function gate(overrides: { maxEntries?: number } = {}) {
  const clock = frozenClock();
  return { clock, gate: createPollingGate({ clock, interval: 5, codeTtl: 600, ...overrides }) };
}

test('ok: the first poll of a code is on time', () => {
  const { gate: g } = gate();
  assert.deepEqual(g.poll('code-a'), { ok: true });
});

test('ok: polls an interval apart are on time', () => {
  const { clock, gate: g } = gate();
  g.poll('code-a');
  for (let i = 0; i < 5; i++) {
    clock.advance(5000);
    assert.deepEqual(g.poll('code-a'), { ok: true });
  }
});

test('ok: a poll slightly early (within the leeway) is on time', () => {
  const { clock, gate: g } = gate();
  g.poll('code-a');
  clock.advance(4200);
  assert.deepEqual(g.poll('code-a'), { ok: true });
});

test('fail-too-fast: a poll before the interval is slow_down, and the interval grows by 5 s', () => {
  const { clock, gate: g } = gate();
  g.poll('code-a');
  clock.advance(1000);
  assert.deepEqual(g.poll('code-a'), { ok: false, interval: 10 });
  assert.equal(g.intervalOf('code-a'), 10);
  clock.advance(6000);
  assert.deepEqual(g.poll('code-a'), { ok: false, interval: 15 }, 'the old interval is no longer enough');
});

test('ok: a client that honours slow_down (waits its new interval) is let through again', () => {
  const { clock, gate: g } = gate();
  g.poll('code-a');
  clock.advance(100);
  assert.equal(g.poll('code-a').ok, false);
  clock.advance(10_000);
  assert.deepEqual(g.poll('code-a'), { ok: true });
  assert.equal(g.intervalOf('code-a'), 10, 'the raised interval stays');
});

test('ok: codes are paced independently', () => {
  const { gate: g } = gate();
  g.poll('code-a');
  assert.deepEqual(g.poll('code-b'), { ok: true });
  assert.equal(g.poll('code-a').ok, false);
});

test('ok: an entry is forgotten when its code would have expired', () => {
  const { clock, gate: g } = gate();
  g.poll('code-a');
  clock.advance(100);
  g.poll('code-a');
  clock.advance(600_000);
  assert.equal(g.intervalOf('code-a'), 5);
  assert.deepEqual(g.poll('code-a'), { ok: true });
});

test('ok: the table is bounded; the stalest entry goes first', () => {
  const { gate: g } = gate({ maxEntries: 2 });
  g.poll('code-a');
  g.poll('code-b');
  g.poll('code-c');
  assert.equal(g.poll('code-c').ok, false, 'the newest is kept');
  assert.deepEqual(g.poll('code-a'), { ok: true }, 'the stalest was dropped');
});
