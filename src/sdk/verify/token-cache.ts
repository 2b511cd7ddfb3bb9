/**
 * Verified tokens, so each token is verified once: token string → identity, until the token
 * expires. Bounded (the oldest entry goes first); failures are never stored. A hit costs one Map
 * lookup and hands back a promise that is already resolved, so the hot path allocates nothing.
 */
import type { Identity } from './types.ts';

export interface CachedToken {
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

export function createTokenCache(maxEntries: number): TokenCache {
  const entries = new Map<string, CachedToken>();
  return {
    get: (token) => entries.get(token),
    set(token, identity, validUntil) {
      if (maxEntries <= 0) return;
      if (entries.size >= maxEntries && !entries.has(token)) entries.delete(entries.keys().next().value!);
      entries.set(token, { identity, resolved: Promise.resolve(identity), validUntil });
    },
    delete: (token) => void entries.delete(token),
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
