/**
 * Exchanged access tokens, keyed by the SHA-256 digest of the personal API token they came from
 * (the plain token is never kept): each API token is exchanged once and its access token reused
 * until shortly before it expires, or until the verifier refuses it (revoked: `drop`).
 *
 * - A hit costs one Map lookup and a clock read. Past `renewAt` (refreshBefore before expiry) the
 *   hit still answers while one exchange runs in the background, so a busy token never waits;
 *   past `usableUntil` (a few seconds before expiry) it is a miss.
 * - Misses are single-flight: concurrent requests with one uncached token share one exchange.
 * - A refused token (`invalid_grant`) is remembered for `negativeTtl` to blunt floods of one bad
 *   token; a token never seen before is never refused here, so a new token works at once.
 * - Bounded: when full, the oldest tenth goes (both maps).
 */
import type { ExchangeResult, TokenExchanger } from './token-exchange.ts';

interface Held {
  accessToken: string;
  /** Epoch ms: renew in the background from here on. */
  renewAt: number;
  /** Epoch ms: no longer handed out (a margin before `exp`). */
  usableUntil: number;
}

export interface ExchangeCacheOptions {
  exchange: TokenExchanger;
  maxEntries: number;
  /** Ms before expiry to renew (at most half the lifetime). */
  refreshBefore: number;
  /** Ms a refused token is refused without asking again (0: never). */
  negativeTtl: number;
  now?: () => number;
}

export interface ExchangeCache {
  /** The access token held for `digest` when usable now (starts a background renewal when due); undefined: ask `exchange`. */
  cached(digest: string, apiToken: string, clientAddress: string): string | undefined;
  /** True when the token was refused within `negativeTtl`. */
  recentlyRefused(digest: string): boolean;
  /** Exchanges (one at a time per digest) and keeps the result. */
  exchange(digest: string, apiToken: string, clientAddress: string): Promise<ExchangeResult>;
  /** The verifier refused `accessToken` (revoked): forget it, unless a newer one replaced it meanwhile. */
  drop(digest: string, accessToken: string): void;
  readonly size: number;
}

/** Seconds before `exp` an access token stops being handed out (never more than a quarter of its life). */
const EXPIRY_MARGIN_MS = 5000;

function evictOldest<V>(map: Map<string, V>, maxEntries: number): void {
  let count = Math.ceil(maxEntries / 10);
  for (const key of map.keys()) {
    map.delete(key);
    if (--count === 0) break;
  }
}

export function createExchangeCache(options: ExchangeCacheOptions): ExchangeCache {
  const now = options.now ?? Date.now;
  const held = new Map<string, Held>();
  const refused = new Map<string, number>();
  const inFlight = new Map<string, Promise<ExchangeResult>>();

  function remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (options.maxEntries <= 0) return;
    if (map.size >= options.maxEntries && !map.has(key)) evictOldest(map, options.maxEntries);
    map.set(key, value);
  }

  async function run(digest: string, apiToken: string, clientAddress: string): Promise<ExchangeResult> {
    const startedAt = now();
    const result = await options.exchange(apiToken, clientAddress);
    if (result.kind === 'issued') {
      const lifetime = result.expiresIn * 1000;
      const expiresAt = startedAt + lifetime;
      refused.delete(digest);
      remember(held, digest, {
        accessToken: result.accessToken,
        renewAt: expiresAt - Math.min(options.refreshBefore, lifetime / 2),
        usableUntil: expiresAt - Math.min(EXPIRY_MARGIN_MS, lifetime / 4),
      });
    } else if (result.kind === 'refused') {
      held.delete(digest);
      if (options.negativeTtl > 0) remember(refused, digest, now() + options.negativeTtl);
    }
    // unavailable: a held token stays usable until usableUntil; the next request tries again.
    return result;
  }

  function exchange(digest: string, apiToken: string, clientAddress: string): Promise<ExchangeResult> {
    let pending = inFlight.get(digest);
    if (pending === undefined) {
      pending = run(digest, apiToken, clientAddress).finally(() => inFlight.delete(digest));
      inFlight.set(digest, pending);
    }
    return pending;
  }

  return {
    cached(digest, apiToken, clientAddress) {
      const entry = held.get(digest);
      if (entry === undefined) return undefined;
      const t = now();
      if (t >= entry.usableUntil) {
        held.delete(digest);
        return undefined;
      }
      if (t >= entry.renewAt && !inFlight.has(digest)) exchange(digest, apiToken, clientAddress).catch(() => undefined);
      return entry.accessToken;
    },
    recentlyRefused(digest) {
      if (refused.size === 0) return false;
      const until = refused.get(digest);
      if (until === undefined) return false;
      if (now() < until) return true;
      refused.delete(digest);
      return false;
    },
    exchange,
    drop(digest, accessToken) {
      if (held.get(digest)?.accessToken === accessToken) held.delete(digest);
    },
    get size() {
      return held.size;
    },
  };
}
