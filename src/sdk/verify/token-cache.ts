/**
 * Verified tokens, so each token is verified once: token string → identity, until the token
 * expires. Bounded (when full, the oldest tenth goes); failures are never stored. A hit costs one Map
 * lookup and hands back a promise that is already resolved, so the hot path allocates nothing.
 *
 * Entries are keyed by a small integer read off the token's last characters (its signature,
 * random for every token) and hold the whole token, which a lookup compares: only a token equal
 * to the stored one is a hit. Keying by a string would cost a slice of the token and a hash of
 * that slice on every request (the request's token is a new string each time, so V8 has no hash
 * cached for it), about 1 % of a gateway request's instructions (callgrind, BENCHMARKS.md).
 * Two cached tokens with the same key cannot both stay: the newer replaces the older, which is
 * verified again the next time it comes (24 bits of signature: a full cache of 10,000 holds a
 * handful of such pairs).
 */
import type { Identity } from './types.ts';

export interface CachedToken {
  token: string;
  identity: Identity;
  /** `Promise.resolve(identity)`, made once. */
  resolved: Promise<Identity>;
  /** Epoch ms after which the token is no longer accepted (exp or maxTokenAge, plus leeway). */
  validUntil: number;
}

export interface TokenCache {
  get(token: string): CachedToken | undefined;
  set(token: string, identity: Identity, validUntil: number): void;
  delete(token: string): void;
  clear(): void;
  readonly size: number;
}

/**
 * The cache key of `token`: four UTF-16 code units from its end, 7 bits each (a JWS ends in its
 * base64url signature: ASCII, 6 random bits a character; the very last one is skipped, as it
 * carries only the signature's last 2 to 4 bits), as a small integer. Not a digest and not a
 * secret: the stored token is compared whole.
 */
export function tokenKey(token: string): number {
  const n = token.length;
  return (token.charCodeAt(n - 2) & 0x7f) | ((token.charCodeAt(n - 3) & 0x7f) << 7) | ((token.charCodeAt(n - 4) & 0x7f) << 14) | ((token.charCodeAt(n - 5) & 0x7f) << 21);
}

export function createTokenCache(maxEntries: number): TokenCache {
  const entries = new Map<number, CachedToken>();
  const get = (token: string): CachedToken | undefined => {
    const entry = entries.get(tokenKey(token));
    return entry !== undefined && entry.token === token ? entry : undefined;
  };
  // The oldest tenth goes at once: taken one at a time from the front, every new iterator first
  // skips the holes the earlier deletions left there (≈ 8 µs a verified token at 10,000 entries).
  const evictOldest = () => {
    let count = Math.ceil(maxEntries / 10);
    for (const key of entries.keys()) {
      entries.delete(key);
      if (--count === 0) break;
    }
  };
  return {
    get,
    set(token, identity, validUntil) {
      if (maxEntries <= 0) return;
      const key = tokenKey(token);
      if (entries.size >= maxEntries && !entries.has(key)) evictOldest();
      entries.set(key, { token, identity, resolved: Promise.resolve(identity), validUntil });
    },
    delete(token) {
      const key = tokenKey(token);
      if (entries.get(key)?.token === token) entries.delete(key);
    },
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
