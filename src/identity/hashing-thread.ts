/**
 * One argon2id thread (a worker of ./hashing-threads.ts): lowers its own CPU priority once, then
 * derives a tag per message. The synchronous derivation is the point: it runs on this thread,
 * at this thread's priority, not on libuv's pool beside token signing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { argon2Sync } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { DeriveRequest, DeriveAnswer, ThreadReady } from './hashing-threads.ts';

/**
 * Linux: setpriority() on a thread id changes that thread alone (and the threads it starts).
 * Elsewhere there is no thread id to name, so the thread keeps the process's priority.
 */
function lowerPriority(increment: number): number | undefined {
  if (increment === 0) return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + increment));
    return getPriority(tid);
  } catch {
    return undefined;
  }
}

const port = parentPort!;
port.postMessage({ ready: true, nice: lowerPriority((workerData as { niceIncrement: number }).niceIncrement) } satisfies ThreadReady);
port.on('message', (request: DeriveRequest) => {
  let answer: DeriveAnswer;
  try {
    const tag = argon2Sync('argon2id', {
      message: request.message,
      nonce: request.salt,
      memory: request.params.memory,
      passes: request.params.passes,
      parallelism: request.params.parallelism,
      tagLength: request.tagLength,
    });
    // A copy of its own: the tag may sit in Node's shared pool buffer, which a transfer would copy whole.
    answer = { tag: new Uint8Array(tag) };
  } catch (error) {
    answer = { error: (error as Error).message };
  }
  port.postMessage(answer);
});
