/**
 * The threads argon2id runs on: worker threads of this process, started when first needed, at a
 * lower CPU priority than the event loop (`passwords.hashNice`, +10 by default; Linux). A hash
 * costs ~20 ms of a core; when a login flood and token traffic compete for the same core, the
 * scheduler now gives the core to requests first, so a flood slows sign-ins, not token issuance.
 * An idle core still runs hashes at full speed: priority only matters under contention.
 *
 * One set of threads per process and priority (a service and the CLI in one process share them);
 * each caller bounds its own concurrency (../shared/concurrency.ts), and jobs beyond the threads
 * wait here. Idle threads do not keep the process alive. A thread that dies fails its job and is
 * replaced by the next one started.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

export interface Argon2Params {
  /** KiB. */
  memory: number;
  passes: number;
  parallelism: number;
}

/** What a hashing thread is asked (the message travels by structured clone, never to a log). */
export interface DeriveRequest {
  message: string;
  salt: Uint8Array;
  params: Argon2Params;
  tagLength: number;
}
export type DeriveAnswer = { tag: Uint8Array } | { error: string };
/** The first message of a thread: its nice value once lowered (undefined when it could not be). */
export interface ThreadReady {
  ready: true;
  nice: number | undefined;
}

export interface HashingThreads {
  derive(request: DeriveRequest): Promise<Buffer>;
  /** Nice values of the threads started so far (undefined: not lowered). */
  readonly priorities: ReadonlyArray<number | undefined>;
}

interface Job {
  request: DeriveRequest;
  resolve(tag: Buffer): void;
  reject(error: Error): void;
}

interface Thread {
  worker: Worker;
  job: Job | undefined;
  nice: number | undefined;
}

const THREAD_FILE = new URL('./hashing-thread.ts', import.meta.url);

/** A set of threads of its own (tests give `threadFile` a thread that can be made to die). Callers use `hashingThreads`. */
export function createHashingThreads(niceIncrement: number, maxThreads: number, threadFile: URL = THREAD_FILE): HashingThreads {
  const threads: Thread[] = [];
  const waiting: Job[] = [];

  const start = (thread: Thread, job: Job) => {
    thread.job = job;
    thread.worker.ref(); // a hash in progress keeps the process alive (a CLI command awaits it)
    thread.worker.postMessage(job.request);
  };

  const finish = (thread: Thread) => {
    thread.job = undefined;
    const next = waiting.shift();
    if (next !== undefined) start(thread, next);
    else thread.worker.unref();
  };

  const spawn = (): Thread => {
    // No inherited node flags: a thread that only hashes needs none, and some (--input-type, --eval) break its start.
    const worker = new Worker(threadFile, { workerData: { niceIncrement }, execArgv: [] });
    const thread: Thread = { worker, job: undefined, nice: undefined };
    worker.on('message', (message: ThreadReady | DeriveAnswer) => {
      if ('ready' in message) {
        thread.nice = message.nice;
        return;
      }
      const job = thread.job;
      if (job === undefined) return;
      if ('tag' in message) job.resolve(Buffer.from(message.tag.buffer, message.tag.byteOffset, message.tag.byteLength));
      else job.reject(new Error(`argon2id failed: ${message.error}`));
      finish(thread);
    });
    const fail = (error: Error) => {
      threads.splice(threads.indexOf(thread), 1);
      thread.job?.reject(error);
      thread.job = undefined;
      // A job waiting for a thread gets a new one.
      const next = waiting.shift();
      if (next !== undefined) start(spawn(), next);
    };
    worker.once('error', fail);
    worker.once('exit', (code) => { if (threads.includes(thread)) fail(new Error(`the hashing thread exited (code ${code})`)); });
    threads.push(thread);
    return thread;
  };

  return {
    derive(request) {
      return new Promise<Buffer>((resolve, reject) => {
        const job: Job = { request, resolve, reject };
        const idle = threads.find((thread) => thread.job === undefined);
        if (idle !== undefined) start(idle, job);
        else if (threads.length < maxThreads) start(spawn(), job);
        else waiting.push(job);
      });
    },
    get priorities() {
      return threads.map((thread) => thread.nice);
    },
  };
}

const byPriority = new Map<number, HashingThreads>();

/** The process's hashing threads for this priority: at most one per CPU core this process may use. */
export function hashingThreads(niceIncrement: number): HashingThreads {
  let threads = byPriority.get(niceIncrement);
  if (threads === undefined) {
    threads = createHashingThreads(niceIncrement, availableParallelism());
    byPriority.set(niceIncrement, threads);
  }
  return threads;
}
