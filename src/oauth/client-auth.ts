/**
 * How a client authenticates at the token endpoint, chosen per client: a secret sent in the Basic
 * header (`client_secret_basic`) or the form (`client_secret_post`), a JWT signed with the
 * client's own key (`private_key_jwt`, RFC 7523: its public keys inline or at a JWKS URI), or
 * nothing (`none`: a public client, PKCE only). oidc-provider enforces the registered method: a
 * client using another one is refused `invalid_client`; it also checks an assertion's audience,
 * expiry and one-time `jti` (ReplayDetection, stored by ./adapter.ts).
 *
 * A secret is stored as a SHA-256 digest. After a rotation the previous digest is kept with an
 * expiry and offered to oidc-provider only until then (see `authMetadata`), so the old secret
 * stops working exactly at the end of the overlap.
 */
import { z } from 'zod';
import { importJWK } from 'jose';
import type { ClientRow } from '../store/index.ts';
import { constantTimeEqual, sha256Hex } from '../shared/random.ts';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from './types.ts';

/** Client metadata extension: the digest of the previous secret while it is still accepted. */
export const PREVIOUS_SECRET_PROPERTY = 'gatehouse_previous_secret';

export const SECRET_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post'];

export function usesSecret(method: ClientAuthMethod): boolean {
  return SECRET_METHODS.includes(method);
}

export const authMethodSchema = z.enum(CLIENT_AUTH_METHODS);

/**
 * A JWKS URI the service will fetch: https only. oidc-provider fetches it with its SSRF guard
 * (a host resolving to a loopback, private or other special-use address is never contacted), a
 * 2.5 s timeout, and caches the keys per the response's Cache-Control (at least 60 s).
 */
export const jwksUriSchema = z
  .string()
  .max(2000)
  .refine((value) => {
    const url = URL.parse(value);
    return url !== null && url.protocol === 'https:' && url.hash === '' && url.username === '' && url.password === '';
  }, 'an https URL without fragment or credentials');

/** Private or symmetric key members: a client registers public keys only. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export const jwksSchema = z
  .object({
    keys: z
      .array(
        z
          .looseObject({ kty: z.enum(['RSA', 'EC', 'OKP']), kid: z.string().max(200).optional() })
          .refine((key) => !PRIVATE_MEMBERS.some((member) => member in key), 'public keys only (no private or symmetric key members)'),
      )
      .min(1)
      .max(10),
  })
  .strict();

export type Jwks = z.output<typeof jwksSchema>;

/** Whether every key of `jwks` is a usable public key (jose imports it). */
export async function jwksProblem(jwks: Jwks): Promise<string | undefined> {
  for (const [index, key] of jwks.keys.entries()) {
    try {
      await importJWK({ ...key, ext: true } as Parameters<typeof importJWK>[0], typeof key.alg === 'string' ? key.alg : defaultAlg(key));
    } catch (error) {
      return `key ${index} is not a usable public key (${(error as Error).message})`;
    }
  }
  return undefined;
}

function defaultAlg(key: Record<string, unknown>): string {
  if (key.kty === 'RSA') return 'RS256';
  if (key.kty === 'OKP') return 'EdDSA';
  return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, string>)[String(key.crv)] ?? 'ES256';
}

/** The method of a stored client; rows from before 0010_client_auth derive it from the secret. */
export function authMethodOf(row: Pick<ClientRow, 'token_endpoint_auth_method' | 'secret_digest'>): ClientAuthMethod {
  const stored = row.token_endpoint_auth_method;
  if (stored !== null && (CLIENT_AUTH_METHODS as readonly string[]).includes(stored)) return stored as ClientAuthMethod;
  return row.secret_digest === null ? 'none' : 'client_secret_basic';
}

/**
 * The authentication part of the oidc-provider metadata. `client_secret` holds the digest: the
 * provider never sees a plaintext secret (our `compareClientSecret` hashes the presented one).
 */
export function authMetadata(row: ClientRow, now: number): Record<string, unknown> {
  const method = authMethodOf(row);
  const metadata: Record<string, unknown> = { token_endpoint_auth_method: method };
  if (usesSecret(method) && row.secret_digest !== null) {
    metadata.client_secret = row.secret_digest;
    const expiresAt = row.previous_secret_expires_at === null ? null : Number(row.previous_secret_expires_at);
    if (row.previous_secret_digest !== null && expiresAt !== null && expiresAt > now) metadata[PREVIOUS_SECRET_PROPERTY] = row.previous_secret_digest;
  }
  if (method === 'private_key_jwt') {
    if (row.jwks !== null) metadata.jwks = JSON.parse(row.jwks) as unknown;
    else if (row.jwks_uri !== null) metadata.jwks_uri = row.jwks_uri;
  }
  return metadata;
}

/**
 * oidc-provider's secret check for our clients: the presented secret's digest against the current
 * digest and, during a rotation's overlap, the previous one. Both are compared every time, in
 * constant time, so the answer's timing says nothing about which matched.
 */
export function matchesStoredSecret(
  client: { clientSecret?: unknown; tokenEndpointAuthMethod?: unknown; [PREVIOUS_SECRET_PROPERTY]?: unknown },
  presented: unknown,
  presentedBy: 'client_secret_basic' | 'client_secret_post',
): boolean {
  if (typeof presented !== 'string' || typeof client.clientSecret !== 'string') return false;
  const digest = sha256Hex(presented);
  const current = constantTimeEqual(digest, client.clientSecret);
  const previous = typeof client[PREVIOUS_SECRET_PROPERTY] === 'string' && constantTimeEqual(digest, client[PREVIOUS_SECRET_PROPERTY]);
  return (current || previous) && client.tokenEndpointAuthMethod === presentedBy;
}
