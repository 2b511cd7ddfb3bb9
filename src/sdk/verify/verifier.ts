/**
 * `createVerifier()`: what the gateway and every service use to turn a bearer access token into
 * an `Identity`. The parts, one job each:
 *
 *   remote-keys.ts      discovery + JWKS, pinned algorithms, unknown-kid cooldown
 *   token-checks.ts     size, signature, typ/iss/aud/exp/nbf/iat, claim shapes
 *   token-cache.ts      verified tokens, so each is verified once
 *   revocations.ts      deny list fed by tokens.revoked
 *   revocation-feed.ts  the event stream subscription (revocations, key rotation, policy changes)
 *   policy-client.ts    GET /policy → roles → permissions
 *   identity.ts         claims + policy → Identity
 *
 * The hot path is a cache hit: one Map lookup, an expiry check, the deny lists only when they
 * hold anything, and an already-resolved promise (or, from `verifyCached`, the identity itself) —
 * no allocation.
 */
import { retryDelay } from '../../shared/backoff.ts';
import type { SdkLogger } from '../workload-identity.ts';
import { VerificationError, VerifierUnavailableError, type Identity, type TokenSource, type Verifier, type VerifierStatus } from './types.ts';
import { internalFetch } from './internal-fetch.ts';
import { createRemoteKeySet } from './remote-keys.ts';
import { checkAccessToken, type AccessTokenRules } from './token-checks.ts';
import { createTokenCache, type CachedToken } from './token-cache.ts';
import { createRevocationList } from './revocations.ts';
import { createPolicyClient } from './policy-client.ts';
import { toIdentity } from './identity.ts';
import { subscribeToRevocations } from './revocation-feed.ts';
import type { EventStreamSubscription } from '../event-stream.ts';

export interface VerifierOptions {
  /** Expected `iss`; discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** Required `aud`. */
  audience: string;
  /** Internal base URL to fetch from (discovery, JWKS, /policy, /events/stream) instead of the issuer. Default: the issuer. */
  securityService?: string;
  /** A service token source (scope events:read, audience = issuer) for the event stream. Without it: no revocation push. */
  credentials?: TokenSource;
  /** Seconds of leeway on exp/nbf/iat. Default 5. */
  clockTolerance?: number;
  /** Seconds: longest exp − iat and now − iat. Default 86400. */
  maxTokenAge?: number;
  /** Longer tokens are refused before any parsing. Default 8192. */
  maxTokenBytes?: number;
  /** Verified tokens kept. Default 10000; 0 = no cache. */
  cacheSize?: number;
  /** Seconds between JWKS refetches caused by unknown kids. Default 30. */
  jwksCooldown?: number;
  fetch?: typeof fetch;
  logger?: SdkLogger;
  /** Epoch ms (tests). */
  now?: () => number;
  /** Reconnect backoff of the event stream, ms (tests). */
  eventsBackoff?: { min: number; max: number };
}

/** Keys and policy are refetched this often even without events (an unchanged policy costs a 304). */
const REFRESH_INTERVAL_MS = 5 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60 * 1000;
const silent: SdkLogger = { info() {}, warn() {}, error() {} };

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`createVerifier(): ${name} must be a non-negative number, received ${String(value)}`);
  return value;
}

export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) throw new TypeError(`createVerifier(): issuer must be a URL, received ${JSON.stringify(options.issuer)}`);
  if (typeof options.audience !== 'string' || options.audience === '') throw new TypeError('createVerifier(): audience is required');
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silent;
  const rules: AccessTokenRules = {
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: positive('clockTolerance', options.clockTolerance, 5),
    maxTokenAge: positive('maxTokenAge', options.maxTokenAge, 86400),
    maxTokenBytes: positive('maxTokenBytes', options.maxTokenBytes, 8192),
  };
  const doFetch = internalFetch(options.issuer, options.securityService, options.fetch ?? globalThis.fetch);
  const keys = createRemoteKeySet({ issuer: options.issuer, fetch: doFetch, cooldown: positive('jwksCooldown', options.jwksCooldown, 30) * 1000, now });
  const policy = createPolicyClient({ issuer: options.issuer, fetch: doFetch });
  const cache = createTokenCache(positive('cacheSize', options.cacheSize, 10_000));
  const nowSeconds = () => Math.floor(now() / 1000);
  const revocations = createRevocationList(nowSeconds);
  const inFlight = new Map<string, Promise<Identity>>();
  const timers: NodeJS.Timeout[] = [];
  let generation = 0;
  let closed = false;
  let feed: EventStreamSubscription | undefined;

  const policyChanged = () => {
    generation += 1;
    cache.clear();
  };

  /** Loads keys and policy until both succeed once, then keeps them fresh; starts the event feed. */
  async function start(): Promise<void> {
    for (let attempt = 0; !closed; attempt += 1) {
      const [k, p] = await Promise.allSettled([keys.loaded() ? undefined : keys.refresh(), policy.current() ? undefined : policy.refresh()]);
      if (p.status === 'fulfilled' && p.value === true) policyChanged();
      if (k.status === 'fulfilled' && p.status === 'fulfilled') break;
      const failure = k.status === 'rejected' ? k.reason : (p as PromiseRejectedResult).reason;
      logger.warn({ err: { message: (failure as Error).message }, attempt }, 'loading the issuer\'s keys or policy failed; retrying');
      await new Promise((resolve) => timers.push(setTimeout(resolve, retryDelay({ initialDelay: 500, maxDelay: 30_000 }, attempt)).unref()));
    }
    if (closed) return;
    if (options.credentials) {
      feed = subscribeToRevocations({
        issuer: options.issuer,
        fetch: doFetch,
        credentials: options.credentials,
        keys,
        revocations,
        policy,
        onPolicyChanged: policyChanged,
        logger,
        nowSeconds,
        ...(options.eventsBackoff ? { minBackoff: options.eventsBackoff.min, maxBackoff: options.eventsBackoff.max } : {}),
      });
    }
    timers.push(setInterval(() => {
      keys.refresh().catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'refetching the issuer\'s keys failed'));
      policy.refresh().then((changed) => { if (changed) policyChanged(); }, (error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'refetching /policy failed'));
    }, REFRESH_INTERVAL_MS).unref());
    timers.push(setInterval(() => revocations.prune(), PRUNE_INTERVAL_MS).unref());
  }
  if (!options.credentials) logger.warn({}, 'createVerifier(): no credentials, so no security event stream: revoked tokens stay valid until they expire');
  void start();

  async function verifyUncached(token: string): Promise<Identity> {
    // Right after start, wait for the first key and policy fetch instead of refusing.
    if (!keys.loaded()) await keys.pending()?.catch(() => undefined);
    if (!keys.loaded()) throw new VerifierUnavailableError('the issuer\'s keys have not been loaded');
    if (!policy.current()) await policy.pending()?.catch(() => undefined);
    const startedIn = generation;
    const claims = await checkAccessToken(token, keys, rules, now());
    const identity = toIdentity(claims, policy.current());
    if (revocations.size() !== 0 && revocations.denies(identity)) throw new VerificationError('token revoked');
    if (startedIn === generation && !closed) {
      const validUntil = (Math.min(claims.exp, claims.iat + rules.maxTokenAge) + rules.clockTolerance) * 1000;
      cache.set(token, identity, validUntil);
    }
    return identity;
  }

  function verifyMiss(token: string): Promise<Identity> {
    // Concurrent requests with the same new token share one verification.
    let pending = inFlight.get(token);
    if (pending === undefined) {
      pending = verifyUncached(token);
      inFlight.set(token, pending);
      // Not `.finally()`: callers get the verification's own promise, one promise hop fewer.
      const settled = () => { inFlight.delete(token); };
      pending.then(settled, settled);
    }
    return pending;
  }

  // Counters for stats(): plain numbers, so the hot path pays an increment.
  let cacheHits = 0;
  let cacheMisses = 0;

  /** A cached verification that still holds (checked again: expiry and the deny list), else undefined. */
  function cached(token: string): CachedToken | undefined {
    if (typeof token !== 'string') return undefined; // plain-JavaScript callers: verify() refuses it
    const hit = cache.get(token);
    if (hit === undefined) return undefined;
    if (now() < hit.validUntil && (revocations.size() === 0 || !revocations.denies(hit.identity))) {
      cacheHits += 1;
      return hit;
    }
    cache.delete(token);
    return undefined;
  }

  function verify(token: string): Promise<Identity> {
    const hit = cached(token);
    if (hit !== undefined) return hit.resolved;
    cacheMisses += 1;
    if (typeof token !== 'string') return Promise.reject(new VerificationError('token is not a string'));
    if (token.length > rules.maxTokenBytes) return Promise.reject(new VerificationError(`token longer than ${rules.maxTokenBytes} bytes`));
    return verifyMiss(token);
  }

  const status = (): VerifierStatus => ({ jwks: keys.healthy(), policy: policy.healthy(), events: feed?.connected() ?? false });

  return {
    verify,
    verifyCached: (token) => cached(token)?.identity,
    status,
    ready() {
      const s = status();
      return s.jwks && s.policy && s.events;
    },
    get policyVersion() {
      return policy.current()?.version;
    },
    stats: () => ({ cacheHits, cacheMisses }),
    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      feed?.close();
      cache.clear();
    },
  };
}
