/**
 * Per-client-IP refusal limiting for the endpoints where credentials can be guessed: client
 * secrets (OAuth token, introspection, revocation), join tokens (/pki/enroll), client
 * certificates (/pki/renew), bearer tokens (/admin/api/*, /events/*) and passwords (the sign-in
 * form's post, whose own login throttle answers 429 too: each of those is a refused guess).
 *
 * Every 400/401/403 answer there (and a 429 of the sign-in form) counts one refusal for the client's address bucket (an IPv4
 * address, or an IPv6 /64: ./client-address.ts `addressBucket`); successes never count. Once a
 * bucket reaches `limit` refusals within `window`, it is blocked for `block`: its requests to
 * those endpoints are answered 429 with Retry-After before anything else runs, so a blocked
 * guesser writes no audit rows — only the one `ip.blocked` row when the block starts.
 *
 * Which endpoint a request is comes from the route the router MATCHED, never the raw URL:
 * fastify routes `/admin/%61pi/users` and `http://host/oauth2/token` to the same handlers as
 * `/admin/api/users` and `/oauth2/token`, so anything keyed on the raw URL could be walked around.
 *
 * The counts sit behind `RefusalCounter` (in memory, per process, now; Redis later).
 */
import type { Clock } from './clock.ts';
import { waitInWords } from './html.ts';
import { addressBucket } from './client-address.ts';

export interface RefusalCounter {
  /** Epoch ms until which `key` is blocked; 0 when it is not blocked at `now`. */
  blockedUntil(key: string, now: number): Promise<number>;
  /**
   * Counts one refusal at `now` and returns the count in the current fixed window, which starts
   * at the first refusal and lasts `windowMs` (0 for a key that is blocked: it is not counted).
   */
  increment(key: string, now: number, windowMs: number): Promise<number>;
  /**
   * Blocks `key` until `until` and restarts its count. False when it was already blocked;
   * otherwise which bucket the block started on: the key's own, or the `shared` bucket of every
   * key without room of its own (see createMemoryRefusalCounter).
   */
  block(key: string, until: number, now: number): Promise<false | 'own' | 'shared'>;
}

interface Counting {
  count: number;
  windowEnd: number;
}

/**
 * Bounded at `maxEntries`, and a block lasts its full time whatever arrives meanwhile. When the
 * table is full, blocks that ran out go first, then the stalest counting entries; a running
 * block is never evicted (else ~maxEntries fresh addresses would unblock anyone). When nothing
 * but running blocks is left, every key without an entry shares ONE bucket, counted and blocked
 * like an address: a flood of fresh addresses then blocks itself (fail closed) rather than
 * anyone being let go.
 */
export function createMemoryRefusalCounter(options: { maxEntries?: number } = {}): RefusalCounter {
  const maxEntries = options.maxEntries ?? 100_000;
  // Maps iterate in insertion order. Counting entries are re-inserted on each change, so the first
  // is the stalest; blocks are inserted when they start and all last one block length, so the
  // first runs out first.
  const counting = new Map<string, Counting>();
  const blocks = new Map<string, number>();
  let shared: Counting & { blockedUntil: number } = { count: 0, windowEnd: 0, blockedUntil: 0 };

  const dropEndedBlocks = (now: number) => {
    for (const [key, until] of blocks) {
      if (until > now) break;
      blocks.delete(key);
    }
  };
  /** Whether a key without an entry gets one of its own (making room if needed) or the shared bucket. */
  const room = (now: number): 'own' | 'shared' => {
    if (counting.size + blocks.size < maxEntries) return 'own';
    dropEndedBlocks(now);
    if (counting.size + blocks.size < maxEntries) return 'own';
    const stalest = counting.keys().next();
    if (stalest.done) return 'shared';
    counting.delete(stalest.value);
    return 'own';
  };
  /** A running block's end, or undefined (an ended block is dropped: its count restarts). */
  const runningBlock = (key: string, now: number): number | undefined => {
    const until = blocks.get(key);
    if (until === undefined) return undefined;
    if (until > now) return until;
    blocks.delete(key);
    return undefined;
  };
  const count = (entry: Counting | undefined, now: number, windowMs: number): Counting =>
    entry !== undefined && entry.windowEnd > now ? { count: entry.count + 1, windowEnd: entry.windowEnd } : { count: 1, windowEnd: now + windowMs };

  return {
    async blockedUntil(key, now) {
      const until = runningBlock(key, now);
      if (until !== undefined) return until;
      if (counting.has(key)) return 0;
      // No entry: while the table holds only blocks, this key is in the shared bucket.
      dropEndedBlocks(now);
      const full = blocks.size >= maxEntries;
      return full && shared.blockedUntil > now ? shared.blockedUntil : 0;
    },
    async increment(key, now, windowMs) {
      if (runningBlock(key, now) !== undefined) return 0;
      const entry = counting.get(key);
      if (entry === undefined && room(now) === 'shared') {
        if (shared.blockedUntil > now) return 0;
        shared = { ...count(shared, now, windowMs), blockedUntil: 0 };
        return shared.count;
      }
      const next = count(entry, now, windowMs);
      counting.delete(key);
      counting.set(key, next);
      return next.count;
    },
    async block(key, until, now) {
      if (runningBlock(key, now) !== undefined) return false;
      if (!counting.delete(key) && room(now) === 'shared') {
        if (shared.blockedUntil > now) return false;
        shared = { count: 0, windowEnd: 0, blockedUntil: until };
        return 'shared';
      }
      blocks.set(key, until);
      return 'own';
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
  /** Whether the route fastify matched (`request.routeOptions.url`) is limited, and how its refusals are answered. */
  endpoint(route: string | undefined): LimitedKind | undefined;
  /** Whole seconds the client at `ip` must still wait; 0 when it may go ahead. */
  retryAfter(ip: string): Promise<number>;
  /** Counts one refused request from `ip`; starts a block when its bucket reaches the limit. */
  refused(ip: string): Promise<void>;
}

/** A block that just started, for the audit entry. */
export interface RefusalBlock {
  /** The client address whose refusal started it. */
  ip: string;
  /** What is blocked: the address's bucket (an IPv4 address or an IPv6 /64), or `shared` (see createMemoryRefusalCounter). */
  bucket: string;
  /** Epoch seconds. */
  until: number;
}

export function createRefusalLimiter(deps: {
  counter: RefusalCounter;
  clock: Clock;
  settings: RefusalLimitSettings;
  endpoints: LimitedEndpoints;
  /** Called once per block, when it starts (the audit entry). */
  onBlocked(block: RefusalBlock): Promise<void>;
}): RefusalLimiter {
  const { counter, clock, settings } = deps;
  return {
    endpoint: endpointMatcher(deps.endpoints),
    async retryAfter(ip) {
      const now = clock.now();
      const until = await counter.blockedUntil(addressBucket(ip), now);
      return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
    },
    async refused(ip) {
      const now = clock.now();
      const key = addressBucket(ip);
      // Requests that were already inside when the block began still answer; they do not extend it.
      if ((await counter.blockedUntil(key, now)) > now) return;
      const count = await counter.increment(key, now, settings.window * 1000);
      if (count < settings.limit) return;
      const until = now + settings.block * 1000;
      const started = await counter.block(key, until, now);
      if (started) await deps.onBlocked({ ip, bucket: started === 'shared' ? 'shared' : key, until: Math.ceil(until / 1000) });
    },
  };
}

/**
 * 400, 401 and 403 are refusals; 404 and 5xx are not, nor is a 429 except at a `page` (the
 * sign-in form), where it is the login throttle turning a guess away. The limiter's own 429s are
 * never counted again: a blocked client is not counted.
 */
export const isRefusal = (status: number, kind: LimitedKind = 'api'): boolean => status === 400 || status === 401 || status === 403 || (kind === 'page' && status === 429);

/** How a limited endpoint answers: RFC 6749 JSON, problem documents, or HTML pages. */
export type LimitedKind = 'oauth' | 'api' | 'page';

/** The endpoints that are limited, named by the composition root (shared code knows no routes). */
export interface LimitedEndpoints {
  /** Routes answering RFC 6749 errors (the provider middleware counts their refusals). */
  oauth: readonly string[];
  /** Exact routes answering problem documents (the shared HTTP app counts their refusals). */
  api: readonly string[];
  /** Route prefixes answering problem documents. */
  apiPrefixes: readonly string[];
  /** Routes answering HTML to a browser (the sign-in form's post; the shared HTTP app counts their refusals). */
  pages?: readonly string[];
}

/**
 * Which limited endpoint a matched route is: `oauth`, `api`, or none (also for a request no
 * route matched: it reaches no handler). Compiled once.
 */
export function endpointMatcher(endpoints: LimitedEndpoints): (route: string | undefined) => LimitedKind | undefined {
  const oauth = new Set(endpoints.oauth);
  const api = new Set(endpoints.api);
  const pages = new Set(endpoints.pages ?? []);
  return (route) => {
    if (route === undefined) return undefined;
    if (oauth.has(route)) return 'oauth';
    if (pages.has(route)) return 'page';
    if (api.has(route) || endpoints.apiPrefixes.some((prefix) => route.startsWith(prefix))) return 'api';
    return undefined;
  };
}

export const tooManyRefusals = (seconds: number): string => `Too many failed requests from this address; retry after ${seconds} s`;

/** The answer to a blocked browser: a page with nothing to run or load. */
export const tooManyRefusalsPage = (seconds: number): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Too many attempts</title></head>\n<body><h1>Too many attempts</h1><p role="alert">Too many failed attempts from this address. Try again in ${waitInWords(seconds)}.</p></body></html>\n`;
