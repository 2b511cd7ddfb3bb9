/**
 * Fixed-window request counters for a route's `rateLimit`, one limiter per route and key kind
 * (caller `sub`, client address bucket). In memory and per replica: N replicas behind a load
 * balancer allow up to N× the limit, unless `gateway.redis` shares the counts
 * (./shared-rate-limits.ts, which falls back to these when Redis does not answer).
 *
 * Memory is bounded: at `maxKeys` keys, windows that have ended are swept; if every key is still
 * live the oldest one is forgotten (that key starts a fresh window: an attacker spraying keys can
 * reset others' counters, but never makes the gateway grow).
 */

export interface RateLimiter {
  /**
   * Counts one request for `key`: 0 when it is allowed, else the seconds until the window ends
   * (≥ 1). In memory the answer is immediate; shared counters answer after a round trip.
   */
  take(key: string): number | Promise<number>;
}

/** The replica's own counters: they always answer at once, and say how many keys they hold. */
export interface LocalRateLimiter extends RateLimiter {
  take(key: string): number;
  readonly size: number;
}

export interface RateLimiterOptions {
  requests: number;
  /** Window length, seconds. */
  per: number;
  maxKeys?: number;
  now?: () => number;
}

interface Window {
  start: number;
  count: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

export function createRateLimiter(options: RateLimiterOptions): LocalRateLimiter {
  const { requests } = options;
  const windowMs = options.per * 1000;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const now = options.now ?? Date.now;
  const windows = new Map<string, Window>();

  const makeRoom = (t: number) => {
    for (const [key, window] of windows) if (t - window.start >= windowMs) windows.delete(key);
    if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
  };

  return {
    take(key) {
      const t = now();
      let window = windows.get(key);
      if (window === undefined) {
        if (windows.size >= maxKeys) makeRoom(t);
        window = { start: t, count: 0 };
        windows.set(key, window);
      } else if (t - window.start >= windowMs) {
        window.start = t;
        window.count = 0;
      }
      if (window.count >= requests) return Math.max(1, Math.ceil((window.start + windowMs - t) / 1000));
      window.count += 1;
      return 0;
    },
    get size() {
      return windows.size;
    },
  };
}
