import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedMemo } from './bounded-memo.ts';

test('ok: a value is made once per key and kept', () => {
  const memo = boundedMemo<string, { n: number }>(4);
  let made = 0;
  const make = () => ({ n: ++made });
  const first = memo.get('a', make);
  assert.equal(memo.get('a', make), first);
  assert.equal(made, 1);
});

test('ok: at its bound the value kept longest goes first, and only it', () => {
  const memo = boundedMemo<number, string>(2);
  const made: number[] = [];
  const make = (key: number) => () => { made.push(key); return `v${key}`; };
  memo.get(1, make(1));
  memo.get(2, make(2));
  memo.get(1, make(1)); // a hit does not renew it: insertion order
  memo.get(3, make(3));
  assert.equal(memo.size, 2);
  memo.get(2, make(2));
  memo.get(1, make(1));
  assert.deepEqual(made, [1, 2, 3, 1]);
});

test('ok: clear forgets everything; fail-bound: a bound below 1 is refused', () => {
  const memo = boundedMemo<string, number>(3);
  memo.get('a', () => 1);
  memo.clear();
  assert.equal(memo.size, 0);
  assert.equal(memo.get('a', () => 2), 2);
  assert.throws(() => boundedMemo(0), TypeError);
});
