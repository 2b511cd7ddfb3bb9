/**
 * The issuer's signing keys, fetched over HTTP: discovery (`jwks_uri`) once, then the JWKS.
 *
 * Only asymmetric signature keys that name their `alg` are kept, and a token must use exactly its
 * key's `alg` (so `none`, HS256 keyed with a public key, or RS256 against an EC key never reach
 * a signature check). An unknown `kid` refetches the set at most once per `cooldown`, so a flood
 * of garbage kids costs one fetch. `jku`, `x5u` and `jwk` headers are never looked at.
 */
import { importJWK, type CryptoKey, type JWK, type CompactJWSHeaderParameters } from 'jose';
import { VerificationError, VerifierUnavailableError } from './types.ts';
import { getJson, under } from './internal-fetch.ts';

/** JWS algorithms a published key may carry: asymmetric signatures only. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

export interface RemoteKeySet {
  /** A jose key resolver: the key for the header's `kid`, or a refusal. */
  getKey(header: CompactJWSHeaderParameters): Promise<CryptoKey>;
  /**
   * The same for SETs from the authenticated event stream: an unknown kid always refetches (no
   * cooldown), so a revocation signed by a just-rotated key is never lost to a garbage-kid flood.
   */
  getEventKey(header: CompactJWSHeaderParameters): Promise<CryptoKey>;
  /** The algorithms the current key set publishes. */
  algorithms(): string[];
  has(kid: string): boolean;
  /** Epoch ms at which the current key set was requested (0 before the first). */
  fetchedAt(): number;
  /** Refetch now (single flight: concurrent callers share one fetch). Rejects when it fails. */
  refresh(): Promise<void>;
  /** A fetch in progress, if any (verification waits for it while no key set was ever loaded). */
  pending(): Promise<void> | undefined;
  /** Fetched at least once, and the last fetch did not fail. */
  healthy(): boolean;
  loaded(): boolean;
}

export interface RemoteKeySetOptions {
  issuer: string;
  fetch: typeof fetch;
  /** ms between refetches caused by unknown kids. */
  cooldown: number;
  now: () => number;
}

interface ImportedKey {
  alg: string;
  key: CryptoKey;
}

export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const { issuer, fetch: doFetch, cooldown, now } = options;
  let jwksUri: string | undefined;
  let keys = new Map<string, ImportedKey>();
  let algorithms: string[] = [];
  let loaded = false;
  let healthy = false;
  let inFlight: Promise<void> | undefined;
  let lastUnknownKidFetch = -Infinity;
  let fetchedAt = 0;

  async function discover(): Promise<string> {
    const { body } = await getJson(doFetch, under(issuer, '.well-known/openid-configuration'));
    const metadata = body as { issuer?: unknown; jwks_uri?: unknown } | null;
    if (metadata?.issuer !== issuer) throw new Error(`discovery names issuer ${JSON.stringify(metadata?.issuer)}, expected ${issuer}`);
    if (typeof metadata.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    return metadata.jwks_uri;
  }

  async function load(): Promise<void> {
    try {
      jwksUri ??= await discover();
      const requestedAt = now();
      const { body } = await getJson(doFetch, jwksUri);
      const published = (body as { keys?: unknown } | null)?.keys;
      if (!Array.isArray(published)) throw new Error('the JWKS has no keys array');
      const next = new Map<string, ImportedKey>();
      for (const jwk of published as JWK[]) {
        if (typeof jwk.kid !== 'string' || typeof jwk.alg !== 'string' || !ASYMMETRIC.has(jwk.alg)) continue;
        if (jwk.use !== undefined && jwk.use !== 'sig') continue;
        if ('d' in jwk) continue; // a private key published by mistake is not trusted either
        next.set(jwk.kid, { alg: jwk.alg, key: (await importJWK(jwk, jwk.alg)) as CryptoKey });
      }
      keys = next;
      algorithms = [...new Set([...next.values()].map((k) => k.alg))];
      loaded = true;
      healthy = true;
      fetchedAt = requestedAt;
    } catch (error) {
      healthy = false;
      throw error;
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => { inFlight = undefined; });
    return inFlight;
  }

  async function keyFor(header: CompactJWSHeaderParameters, refetchUnknown: () => boolean): Promise<CryptoKey> {
    if (!loaded) throw new VerifierUnavailableError('the issuer\'s keys have not been loaded');
    if ((header as { crit?: unknown }).crit !== undefined) throw new VerificationError('crit header parameter present');
    const kid = header.kid;
    if (typeof kid !== 'string') throw new VerificationError('token header has no kid');
    let entry = keys.get(kid);
    if (entry === undefined && refetchUnknown()) {
      await refresh().catch(() => undefined);
      entry = keys.get(kid);
    }
    if (entry === undefined) throw new VerificationError(`unknown kid ${kid.slice(0, 64)}`);
    if (entry.alg !== header.alg) throw new VerificationError(`alg ${String(header.alg).slice(0, 16)} does not match the alg ${entry.alg} of key ${kid}`);
    return entry.key;
  }

  const cooledDown = (): boolean => {
    if (now() - lastUnknownKidFetch < cooldown) return false;
    lastUnknownKidFetch = now();
    return true;
  };

  return {
    getKey: (header) => keyFor(header, cooledDown),
    getEventKey: (header) => keyFor(header, () => true),
    algorithms: () => algorithms,
    has: (kid) => keys.has(kid),
    fetchedAt: () => fetchedAt,
    refresh,
    pending: () => inFlight,
    healthy: () => healthy,
    loaded: () => loaded,
  };
}
