import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argon2Sync, randomBytes } from 'node:crypto';
import { createHashingThreads, type DeriveRequest } from './hashing-threads.ts';

const MORTAL = new URL('../../test/fixtures/mortal-hashing-thread.ts', import.meta.url);
const params = { memory: 64, passes: 1, parallelism: 1 };

const request = (message: string): DeriveRequest => ({ message, salt: randomBytes(16), params, tagLength: 32 });
const expected = ({ message, salt }: DeriveRequest) => argon2Sync('argon2id', { message, nonce: salt, ...params, tagLength: 32 });

test('fail-thread-dies: the job of a thread that dies is refused; the next job gets a new thread', async () => {
  const threads = createHashingThreads(0, 1, MORTAL);
  await assert.rejects(threads.derive(request('exit-now')), /the hashing thread exited \(code 3\)/);
  const next = request('correct horse');
  assert.deepEqual(await threads.derive(next), expected(next));
  assert.equal(threads.priorities.length, 1, 'the dead thread was replaced, not kept');
});

test('fail-thread-dies-with-a-queue: a job waiting for the only thread gets a new one when that thread dies', async () => {
  const threads = createHashingThreads(0, 1, MORTAL);
  const waiting = request('battery staple');
  const [dead, done] = await Promise.allSettled([threads.derive(request('exit-now')), threads.derive(waiting)]);
  assert.equal(dead.status, 'rejected');
  assert.equal(done.status, 'fulfilled');
  assert.deepEqual((done as PromiseFulfilledResult<Buffer>).value, expected(waiting));
});
