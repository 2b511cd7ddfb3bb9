import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConcurrencyLimit } from './concurrency.ts';
import { GatehouseError } from './errors.ts';

/** A job that finishes when told to, recording how many jobs ran at once. */
function jobs() {
  let running = 0;
  let peak = 0;
  const finish: Array<() => void> = [];
  const job = () => async () => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => finish.push(resolve));
    running -= 1;
    return 'done';
  };
  const settle = async () => {
    for (let i = 0; i < 100; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { job, finish, peak: () => peak, settle };
}

test('ok: at most `limit` jobs run at once; the others wait their turn and all finish', async () => {
  const limit = createConcurrencyLimit({ limit: 2, queue: 10 });
  const { job, finish, peak, settle } = jobs();
  const results = Array.from({ length: 6 }, () => limit.run(job()));
  await settle();
  assert.equal(limit.active, 2);
  assert.equal(limit.waiting, 4);
  while (finish.length > 0) {
    finish.shift()!();
    await settle();
  }
  assert.deepEqual(await Promise.all(results), Array(6).fill('done'));
  assert.equal(peak(), 2);
  assert.equal(limit.active, 0);
});

test('fail-busy: past the waiting line, run refuses at once with server_busy and Retry-After', async () => {
  const limit = createConcurrencyLimit({ limit: 1, queue: 1 });
  const { job, finish, settle } = jobs();
  const first = limit.run(job());
  const second = limit.run(job());
  await settle();
  await assert.rejects(limit.run(job()), (error: unknown) => {
    assert.ok(error instanceof GatehouseError);
    assert.equal(error.code, 'server_busy');
    assert.equal(error.status, 503);
    assert.equal(error.headers?.['retry-after'], '1');
    return true;
  });
  finish.shift()!();
  await settle();
  finish.shift()!();
  assert.deepEqual(await Promise.all([first, second]), ['done', 'done']);
});

test('ok: a failing job frees its slot', async () => {
  const limit = createConcurrencyLimit({ limit: 1, queue: 0 });
  await assert.rejects(limit.run(async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await limit.run(async () => 'next'), 'next');
});
