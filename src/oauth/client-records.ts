/**
 * The `clients` table's records and their rules, shared by every way a client is made or changed
 * (./clients.ts: create and remove; ./client-changes.ts: update, secret rotation;
 * ./dynamic-registration.ts: RFC 7591): the input schema and redirect-URI policy, row ⇄ client,
 * the oidc-provider metadata, and the one insert.
 */
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import type { ClientRow, Store } from '../store/index.ts';
import { isUniqueViolation } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { GatehouseError, fail } from '../shared/errors.ts';
import { parseInput } from '../shared/validation.ts';
import { formatScope, parseScope } from '../shared/scope.ts';
import { randomToken } from '../shared/random.ts';
import { CLIENT_GRANT_TYPES, type Client } from './types.ts';
import { EXCHANGE_SCOPE, SERVICE_ONLY_SCOPES, defaultClientScope, knownScopes } from './resources.ts';
import { TOKEN_EXCHANGE_GRANT } from './token-exchange.ts';
import { authMetadata, authMethodOf, authMethodSchema, jwksProblem, jwksSchema, jwksUriSchema } from './client-auth.ts';
import { DEVICE_CODE_GRANT } from './device/grant.ts';

/** Client metadata extensions oidc-provider carries for us (see `extraClientMetadata`). */
export const FIRST_PARTY_PROPERTY = 'gatehouse_first_party';
export const ROLES_PROPERTY = 'gatehouse_roles';
export const ACCESS_TOKEN_TTL_PROPERTY = 'gatehouse_access_token_ttl';

const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Which redirect targets a browser may be sent to with a code (RFC 8252 §7, RFC 9700 §4.1):
 * https; http only to this machine (a native app's loopback listener); or a private-use scheme
 * in reverse-DNS form (`com.example.app:/cb`, it contains a dot) for a native app. Anything else
 * — `javascript:`, `data:`, `file:`, plain http to a host — is refused.
 */
export function isAllowedRedirectUri(url: URL): boolean {
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'https') return url.hostname !== '';
  if (scheme === 'http') return LOOPBACK_HOSTS.test(url.hostname);
  return scheme.includes('.');
}

export const redirectUri = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => {
    const url = URL.parse(value);
    return url !== null && url.hash === '' && !value.includes('#') && /^[a-z][a-z0-9+.-]*:$/.test(url.protocol);
  }, 'an absolute URI without a fragment, e.g. https://app.example.com/callback')
  .refine((value) => {
    const url = URL.parse(value);
    return url === null || isAllowedRedirectUri(url);
  }, 'https, http to localhost / a loopback address, or a private-use scheme in reverse-DNS form (com.example.app:/callback)');

/** User ids are UUIDs; a client's tokens have `sub` = client id, so a UUID-shaped id could pass for a user. */
const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ClientInputSchema = ReturnType<typeof inputSchema>;
export type ValidClientInput = z.output<ClientInputSchema>;

/** The one definition of a valid client: `create`, `update` (the merged result) and dynamic registration all parse with it. */
export function inputSchema(config: Config) {
  const scopes = new Set(knownScopes(config));
  const roles = new Set(Object.keys(config.roles));
  return z
    .object({
      clientId: z
        .string()
        .regex(/^[A-Za-z0-9._~-]{3,100}$/, '3–100 characters: letters, digits, . _ ~ -')
        .refine((id) => !UUID_SHAPED.test(id), 'must not be shaped like a UUID (user ids are UUIDs)')
        .optional(),
      name: z.string().trim().min(1).max(100),
      firstParty: z.boolean(),
      public: z.boolean().default(false),
      redirectUris: z.array(redirectUri).max(20).default([]),
      postLogoutRedirectUris: z.array(redirectUri).max(20).default([]),
      grantTypes: z.array(z.enum(CLIENT_GRANT_TYPES)).min(1),
      scope: z
        .string()
        .optional()
        .refine((value) => value === undefined || parseScope(value).every((s) => scopes.has(s)), `scopes must be among: ${[...scopes].join(' ')}`),
      roles: z.array(z.string().refine((r) => roles.has(r), 'a role defined in gatehouse.yaml `roles`')).default([]),
      accessTokenTtl: z.number().int().min(1).max(config.tokens.maxAccessTokenTtl, `at most tokens.maxAccessTokenTtl (${config.tokens.maxAccessTokenTtl} s)`).optional(),
      tokenEndpointAuthMethod: authMethodSchema.optional(),
      jwks: jwksSchema.optional(),
      jwksUri: jwksUriSchema.optional(),
    })
    .strict()
    .superRefine((input, ctx) => {
      const method = input.tokenEndpointAuthMethod;
      if (method !== undefined && input.public !== (method === 'none')) {
        ctx.addIssue({ code: 'custom', path: ['tokenEndpointAuthMethod'], message: input.public ? 'a public client authenticates with `none`' : '`none` is for public clients (set public)' });
      }
      if (method === 'private_key_jwt' && (input.jwks === undefined) === (input.jwksUri === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['jwks'], message: 'private_key_jwt needs the client\'s public keys: either jwks or jwksUri' });
      }
      if (method !== 'private_key_jwt' && (input.jwks !== undefined || input.jwksUri !== undefined)) {
        ctx.addIssue({ code: 'custom', path: [input.jwks !== undefined ? 'jwks' : 'jwksUri'], message: 'keys are only used by private_key_jwt' });
      }
    })
    .superRefine((input, ctx) => {
      const grants = new Set(input.grantTypes);
      if (grants.has('authorization_code') && input.redirectUris.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'authorization_code needs at least one redirect URI' });
      }
      // A device (RFC 8628) signs a user in too: it may keep the session with a refresh token.
      const userGrant = grants.has('authorization_code') || grants.has(DEVICE_CODE_GRANT);
      if (grants.has('refresh_token') && !userGrant) {
        ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: `refresh_token needs authorization_code or ${DEVICE_CODE_GRANT}` });
      }
      if (grants.has('client_credentials') && input.public) {
        ctx.addIssue({ code: 'custom', path: ['grantTypes'], message: 'client_credentials needs a confidential client (with a secret)' });
      }
      if (!grants.has('authorization_code') && input.redirectUris.length > 0) {
        ctx.addIssue({ code: 'custom', path: ['redirectUris'], message: 'redirect URIs are only used by authorization_code' });
      }
      const serviceOnly = parseScope(input.scope).filter((s) => SERVICE_ONLY_SCOPES.includes(s));
      if (userGrant && serviceOnly.length > 0) {
        // A user's token would carry them: the event stream and introspection of every token are for services.
        ctx.addIssue({ code: 'custom', path: ['scope'], message: `${serviceOnly.join(' ')} is for service clients (client_credentials only), not for a client that signs users in (authorization_code, device_code)` });
      }
    });
}

export function clientFromRow(row: ClientRow): Client {
  const method = authMethodOf(row);
  const previousExpiresAt = row.previous_secret_expires_at === null ? undefined : Number(row.previous_secret_expires_at);
  return {
    clientId: row.client_id,
    name: row.name,
    firstParty: Number(row.first_party) === 1,
    public: method === 'none',
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as string[],
    scope: row.scope,
    roles: JSON.parse(row.roles) as string[],
    accessTokenTtl: row.access_token_ttl === null ? null : Number(row.access_token_ttl),
    createdAt: Number(row.created_at),
    tokenEndpointAuthMethod: method,
    ...(row.jwks !== null ? { jwks: JSON.parse(row.jwks) as Client['jwks'] } : {}),
    ...(row.jwks_uri !== null ? { jwksUri: row.jwks_uri } : {}),
    ...(row.previous_secret_digest !== null && previousExpiresAt !== undefined ? { previousSecretExpiresAt: previousExpiresAt } : {}),
  };
}

/**
 * oidc-provider client metadata for a row, read fresh on every request (./adapter.ts): an update
 * takes effect at the next request. `now` (epoch seconds) decides whether a rotated-out secret is
 * still offered (./client-auth.ts).
 */
export function clientMetadata(row: ClientRow, now: number): Record<string, unknown> {
  const client = clientFromRow(row);
  const interactive = client.grantTypes.includes('authorization_code');
  return {
    client_id: client.clientId,
    client_name: client.name,
    ...authMetadata(row, now),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    // The scope tokens:exchange is what allows the token-exchange grant (one switch, not two).
    grant_types: parseScope(client.scope).includes(EXCHANGE_SCOPE) ? [...client.grantTypes, TOKEN_EXCHANGE_GRANT] : client.grantTypes,
    response_types: interactive ? ['code'] : [],
    scope: client.scope,
    [FIRST_PARTY_PROPERTY]: client.firstParty,
    [ROLES_PROPERTY]: client.roles,
    ...(client.accessTokenTtl !== null ? { [ACCESS_TOKEN_TTL_PROPERTY]: client.accessTokenTtl } : {}),
  };
}

export async function findClientRow(store: Store, clientId: string): Promise<ClientRow | undefined> {
  return store.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** The method of a valid input: given, or `none` for a public client, else client_secret_basic. */
export function methodOf(input: ValidClientInput) {
  return input.tokenEndpointAuthMethod ?? (input.public ? 'none' : 'client_secret_basic');
}

/** Parses with the client schema, then checks what zod cannot: that the inline keys import. */
export async function parseClientInput(schema: ClientInputSchema, raw: unknown): Promise<ValidClientInput> {
  const input = parseInput(schema, raw, 'The client is invalid');
  const problem = input.jwks === undefined ? undefined : await jwksProblem(input.jwks);
  if (problem !== undefined) throw new GatehouseError('validation_failed', `The client is invalid: jwks: ${problem}`, { extensions: { errors: [{ path: 'jwks', message: problem }] } });
  return input;
}

/** The stored columns of a valid input (everything but id, secret and times). */
export function rowColumns(input: ValidClientInput, config: Config) {
  return {
    name: input.name,
    first_party: input.firstParty ? 1 : 0,
    redirect_uris: JSON.stringify(unique(input.redirectUris)),
    post_logout_redirect_uris: JSON.stringify(unique(input.postLogoutRedirectUris)),
    grant_types: JSON.stringify(unique(input.grantTypes)),
    scope: formatScope(parseScope(input.scope ?? defaultClientScope(config))),
    roles: JSON.stringify(unique(input.roles)),
    access_token_ttl: input.accessTokenTtl ?? null,
    token_endpoint_auth_method: methodOf(input),
    jwks: input.jwks === undefined ? null : JSON.stringify(input.jwks),
    jwks_uri: input.jwksUri ?? null,
  };
}

/** Inserts a valid client with its audit row in one transaction; a taken id is `conflict`. */
export async function insertClient(
  deps: { store: Store; audit: AuditLog; clock: Clock; config: Config },
  input: ValidClientInput,
  secretDigest: string | null,
  audited: { event: 'client.created' | 'client.registered'; actor: string; ip?: string | undefined },
): Promise<ClientRow> {
  const now = epochSeconds(deps.clock);
  const row: ClientRow = {
    client_id: input.clientId ?? randomToken(16),
    ...rowColumns(input, deps.config),
    secret_digest: secretDigest,
    previous_secret_digest: null,
    previous_secret_expires_at: null,
    created_at: now,
    updated_at: now,
  };
  try {
    await deps.store.transaction(async (trx) => {
      await trx.insertInto('clients').values(row).execute();
      const data = { firstParty: input.firstParty, public: input.public, grantTypes: input.grantTypes, tokenEndpointAuthMethod: row.token_endpoint_auth_method, ...(input.accessTokenTtl !== undefined ? { accessTokenTtl: input.accessTokenTtl } : {}) };
      await deps.audit.record({ event: audited.event, actor: audited.actor, subject: row.client_id, clientId: row.client_id, ...(audited.ip ? { ip: audited.ip } : {}), data }, trx);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw fail.conflict(`a client with id ${row.client_id} already exists`);
    throw error;
  }
  return row;
}
