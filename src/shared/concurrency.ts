/**
 * A bound on concurrent work with a short waiting line: at most `limit` jobs run at once and at
 * most `queue` wait for a slot; past that, `run` refuses at once with 503 `server_busy` and a
 * Retry-After, instead of letting the line grow without end.
 *
 * Made for argon2id (../identity/passwords.ts): each hash holds a core for ~20 ms, so a login
 * flood must neither take every core nor make sign-ins wait without end.
 */
import { GatehouseError } from './errors.ts';

export interface ConcurrencyLimit {
  /** Runs `work` when a slot is free; rejects with `server_busy` when the waiting line is full. */
  run<T>(work: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createConcurrencyLimit(options: { limit: number; queue: number; retryAfterSeconds?: number }): ConcurrencyLimit {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new TypeError(`limit must be a positive integer, received ${options.limit}`);
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  let active = 0;
  const waiting: Array<() => void> = [];
  // A finished job hands its slot straight to the next in line; only an idle slot is given back.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run(work) {
      if (active < options.limit) active += 1;
      else if (waiting.length < options.queue) await new Promise<void>((resolve) => waiting.push(resolve));
      else throw new GatehouseError('server_busy', `The service is busy; try again in ${retryAfter} s`, { headers: { 'retry-after': retryAfter } });
      try {
        return await work();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}
