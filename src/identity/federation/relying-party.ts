/**
 * Gatehouse as the client of one external identity provider, through openid-client: authorization
 * code + PKCE (S256) + state, a nonce for OpenID Connect, the `iss` of the authorization response
 * checked (RFC 9207, openid-client does it when the provider sends or advertises it).
 *
 * - ID tokens from the token endpoint have their signature checked: openid-client skips that
 *   unless `enableNonRepudiationChecks` is on (STACK-NOTES), so it is on for every OIDC provider.
 * - Discovery is lazy and never cached as a failure: a provider that is down at start does not
 *   stop the service, and its button works again once the provider is back.
 * - Every request to the provider is bounded by its `timeout` (openid-client's `timeout`).
 * - openid-client refetches a provider's JWKS on an unknown `kid` only when its copy is ≥ 60 s
 *   old (STACK-NOTES), so a sign-in just after the provider rotated keys would fail. Each sign-in
 *   therefore gets its own openid-client Configuration whose JWKS copy (shared between sign-ins)
 *   is presented as at least 60 s old: known keys still come from the copy, an unknown `kid` is
 *   fetched at once. Should a key still not be found, the discovered metadata is dropped too, so
 *   the retry the error page offers starts from scratch.
 */
import * as oidc from 'openid-client';
import type { IdentityProviderConfig } from '../../config/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ExternalIdentity, PendingFlow } from './types.ts';
import { FederationError, classify } from './errors.ts';
import { rolesFromClaims } from './role-rules.ts';

export interface RelyingParty {
  readonly provider: IdentityProviderConfig;
  /** The provider's authorization URL and what the callback must match (kept by the caller, sealed). */
  start(redirectUri: string): Promise<{ url: URL; flow: PendingFlow }>;
  /** Exchanges the code of `callbackUrl` and returns who signed in; throws FederationError. */
  finish(callbackUrl: URL, flow: PendingFlow): Promise<ExternalIdentity>;
  /** Starts discovery in the background (at service start); failures are logged, not thrown. */
  warm(): void;
}

/** Plain http: the config allows it only for a provider on this machine (development, tests). */
const anyPlainHttp = (urls: string[]) => urls.some((value) => new URL(value).protocol === 'http:');

function clientAuth(provider: IdentityProviderConfig, secret: string | undefined): oidc.ClientAuth {
  if (secret === undefined) return oidc.None();
  return provider.tokenEndpointAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined);

/** openid-client's metadata with its helper methods left out (a Configuration clones what it is given). */
function plain(metadata: oidc.ServerMetadata): oidc.ServerMetadata {
  return Object.fromEntries(Object.entries(metadata).filter(([, value]) => typeof value !== 'function')) as oidc.ServerMetadata;
}

/** Presented as this old, a JWKS copy is refetched on an unknown kid (openid-client's threshold). */
const JWKS_REFETCH_AGE = 60;

export function createRelyingParty(provider: IdentityProviderConfig, secret: string | undefined, logger: Logger): RelyingParty {
  let metadata: Promise<oidc.ServerMetadata> | undefined;
  let jwks: oidc.ExportedJWKSCache | undefined;
  const auth = clientAuth(provider, secret);
  const insecure = anyPlainHttp(provider.type === 'oidc' ? [provider.issuer] : [provider.authorizationEndpoint, provider.tokenEndpoint, provider.userinfoEndpoint]);

  async function discover(): Promise<oidc.ServerMetadata> {
    if (provider.type === 'oidc') {
      const found = await oidc.discovery(new URL(provider.issuer), provider.clientId, undefined, auth, { timeout: provider.timeout, execute: insecure ? [oidc.allowInsecureRequests] : [] });
      return plain(found.serverMetadata());
    }
    return {
      issuer: provider.issuer ?? new URL(provider.authorizationEndpoint).origin,
      authorization_endpoint: provider.authorizationEndpoint,
      token_endpoint: provider.tokenEndpoint,
      userinfo_endpoint: provider.userinfoEndpoint,
      // Identity comes from the userinfo endpoint; an ID token the provider adds anyway is
      // still checked for issuer, audience and expiry, whatever it is signed with.
      id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'],
    };
  }

  /** The provider's metadata, discovered on first use; a failure is not kept, so the next use retries. */
  function currentMetadata(): Promise<oidc.ServerMetadata> {
    if (metadata === undefined) {
      const attempt = discover();
      metadata = attempt;
      attempt.catch(() => {
        if (metadata === attempt) metadata = undefined;
      });
    }
    return metadata.catch((error: unknown) => {
      throw classify(provider.id, 'discovery', error);
    });
  }

  /** A Configuration for one sign-in, with the shared JWKS copy presented as old enough to be refetched on an unknown kid. */
  async function current(): Promise<oidc.Configuration> {
    const config = new oidc.Configuration(await currentMetadata(), provider.clientId, undefined, auth);
    config.timeout = provider.timeout;
    if (provider.type === 'oidc') oidc.enableNonRepudiationChecks(config);
    if (insecure) oidc.allowInsecureRequests(config);
    if (jwks?.uat !== undefined) oidc.setJwksCache(config, { ...jwks, uat: Math.min(jwks.uat, Math.floor(Date.now() / 1000) - JWKS_REFETCH_AGE) });
    return config;
  }

  async function claimsOf(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): Promise<Record<string, unknown>> {
    if (provider.type === 'oidc') {
      const idClaims = tokens.claims();
      if (!idClaims) throw new FederationError('invalid_response', provider.id, 'the provider sent no ID token');
      if (!config.serverMetadata().userinfo_endpoint) return { ...idClaims };
      const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      // The ID token's claims win: they are signed; userinfo adds what the ID token left out.
      return { ...info, ...idClaims };
    }
    const response = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(provider.userinfoEndpoint), 'GET', null, new Headers({ accept: 'application/json' }));
    if (!response.ok) throw new FederationError(response.status >= 500 ? 'provider_unavailable' : 'invalid_response', provider.id, `userinfo answered ${response.status}`);
    const body: unknown = await response.json().catch(() => undefined);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new FederationError('invalid_response', provider.id, 'userinfo is not a JSON object');
    return body as Record<string, unknown>;
  }

  return {
    provider,
    warm() {
      currentMetadata().catch((error: unknown) => logger.warn({ provider: provider.id, detail: (error as Error).message }, 'identity provider discovery failed; retried at the next sign-in'));
    },
    async start(redirectUri) {
      const config = await current();
      const verifier = oidc.randomPKCECodeVerifier();
      const flow: PendingFlow = { state: oidc.randomState(), verifier, ...(provider.type === 'oidc' ? { nonce: oidc.randomNonce() } : {}) };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: provider.scopes.join(' '),
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        ...(flow.nonce ? { nonce: flow.nonce } : {}),
      });
      return { url, flow };
    },
    async finish(callbackUrl, flow) {
      const config = await current();
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          ...(flow.nonce ? { expectedNonce: flow.nonce } : {}),
          idTokenExpected: provider.type === 'oidc',
        });
        const claims = await claimsOf(config, tokens);
        const subject = provider.type === 'oidc' ? text(claims.sub) : text(claims[provider.claims.subject]);
        if (subject === undefined) throw new FederationError('invalid_response', provider.id, `no subject (${provider.type === 'oidc' ? 'sub' : provider.claims.subject}) in the provider's answer`);
        const username = text(claims[provider.claims.username]);
        const email = text(claims[provider.claims.email]);
        return { provider: provider.id, subject, username, email, roles: rolesFromClaims(provider.roles, claims) };
      } catch (error) {
        const failure = classify(provider.id, 'callback', error);
        if (failure.check === 'key') metadata = undefined; // discover again next time
        throw failure;
      } finally {
        jwks = oidc.getJwksCache(config) ?? jwks;
      }
    },
  };
}
