/**
 * Per-client-IP refusal limiting for the endpoints where credentials can be guessed: client
 * secrets (OAuth token, introspection, revocation), join tokens (/pki/enroll), client
 * certificates (/pki/renew) and bearer tokens (/admin/api/*, /events/*).
 *
 * Every 400/401/403 answer there counts one refusal for the client IP (successes never count).
 * Once an IP reaches `limit` refusals within `window`, it is blocked for `block`: its requests
 * to those endpoints are answered 429 with Retry-After before anything else runs, so a blocked
 * guesser writes no audit rows — only the one `ip.blocked` row when the block starts.
 *
 * The counts sit behind `RefusalCounter` (in memory, per process, now; Redis later).
 */
import type { Clock } from './clock.ts';

export interface RefusalCounter {
  /** Epoch ms until which `ip` is blocked; 0 when it is not blocked at `now`. */
  blockedUntil(ip: string, now: number): Promise<number>;
  /**
   * Counts one refusal at `now` and returns the count in the current fixed window, which starts
   * at the first refusal and lasts `windowMs`.
   */
  increment(ip: string, now: number, windowMs: number): Promise<number>;
  /** Blocks `ip` until `until` and restarts its count. True only for the call that started the block. */
  block(ip: string, until: number, now: number): Promise<boolean>;
}

interface Entry {
  count: number;
  windowEnd: number;
  blockedUntil: number;
}

/** Bounded: entries past their window and block are dropped; past `maxEntries` the oldest go first. */
export function createMemoryRefusalCounter(options: { maxEntries?: number } = {}): RefusalCounter {
  const maxEntries = options.maxEntries ?? 100_000;
  // A Map iterates in insertion order; entries are re-inserted on each change, so the first are the stalest.
  const entries = new Map<string, Entry>();
  const live = (entry: Entry | undefined, now: number) => entry !== undefined && (entry.windowEnd > now || entry.blockedUntil > now);
  const put = (ip: string, entry: Entry, now: number) => {
    entries.delete(ip);
    if (entries.size >= maxEntries) {
      for (const [key, old] of entries) {
        if (entries.size < maxEntries && live(old, now)) break;
        entries.delete(key);
      }
    }
    entries.set(ip, entry);
  };
  return {
    async blockedUntil(ip, now) {
      const entry = entries.get(ip);
      return entry !== undefined && entry.blockedUntil > now ? entry.blockedUntil : 0;
    },
    async increment(ip, now, windowMs) {
      const entry = entries.get(ip);
      const next = entry !== undefined && entry.windowEnd > now
        ? { ...entry, count: entry.count + 1 }
        : { count: 1, windowEnd: now + windowMs, blockedUntil: entry?.blockedUntil ?? 0 };
      put(ip, next, now);
      return next.count;
    },
    async block(ip, until, now) {
      const entry = entries.get(ip);
      if (entry !== undefined && entry.blockedUntil > now) return false;
      put(ip, { count: 0, windowEnd: 0, blockedUntil: until }, now);
      return true;
    },
  };
}

export interface RefusalLimitSettings {
  /** Refusals within `window` that start a block. */
  limit: number;
  /** Seconds. */
  window: number;
  /** Seconds. */
  block: number;
}

export interface RefusalLimiter {
  /** Whether `url` is limited, and how its refusals are answered. */
  endpoint(url: string): 'oauth' | 'api' | undefined;
  /** Whole seconds `ip` must still wait; 0 when it may go ahead. */
  retryAfter(ip: string): Promise<number>;
  /** Counts one refused request from `ip`; starts a block when it reaches the limit. */
  refused(ip: string): Promise<void>;
}

export function createRefusalLimiter(deps: {
  counter: RefusalCounter;
  clock: Clock;
  settings: RefusalLimitSettings;
  endpoints: LimitedEndpoints;
  /** Called once per block, when it starts (the audit entry). `until` is epoch seconds. */
  onBlocked(ip: string, until: number): Promise<void>;
}): RefusalLimiter {
  const { counter, clock, settings } = deps;
  return {
    endpoint: endpointMatcher(deps.endpoints),
    async retryAfter(ip) {
      const now = clock.now();
      const until = await counter.blockedUntil(ip, now);
      return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
    },
    async refused(ip) {
      const now = clock.now();
      // Requests that were already inside when the block began still answer; they do not extend it.
      if ((await counter.blockedUntil(ip, now)) > now) return;
      const count = await counter.increment(ip, now, settings.window * 1000);
      if (count < settings.limit) return;
      const until = now + settings.block * 1000;
      if (await counter.block(ip, until, now)) await deps.onBlocked(ip, Math.ceil(until / 1000));
    },
  };
}

/** 400, 401 and 403 are refusals; 429 (already blocked), 404 and 5xx are not. */
export const isRefusal = (status: number): boolean => status === 400 || status === 401 || status === 403;

/** The endpoints that are limited, named by the composition root (shared code knows no routes). */
export interface LimitedEndpoints {
  /** Paths answering RFC 6749 errors (the provider middleware counts their refusals). */
  oauth: readonly string[];
  /** Exact paths answering problem documents (the shared HTTP app counts their refusals). */
  api: readonly string[];
  /** Path prefixes answering problem documents. */
  apiPrefixes: readonly string[];
}

/** Which limited endpoint a request URL is: `oauth`, `api`, or none. Compiled once. */
export function endpointMatcher(endpoints: LimitedEndpoints): (url: string) => 'oauth' | 'api' | undefined {
  const oauth = new Set(endpoints.oauth);
  const api = new Set(endpoints.api);
  return (url) => {
    const path = url.split('?')[0] ?? url;
    if (oauth.has(path)) return 'oauth';
    if (api.has(path) || endpoints.apiPrefixes.some((prefix) => path.startsWith(prefix))) return 'api';
    return undefined;
  };
}

export const tooManyRefusals = (seconds: number): string => `Too many failed requests from this address; retry after ${seconds} s`;
