/**
 * Every request and response body of the admin API, defined once. The routes validate with these
 * at the edge and shape their answers with them; ./openapi.ts turns the same schemas into the
 * OpenAPI document (`z.toJSONSchema`). User input rules come from identity (one definition).
 */
import { z } from 'zod';
import { createUserSchema, passwordSchema, roleNameSchema } from '../identity/index.ts';

const epoch = z.number().int().describe('Seconds since the epoch.');

export const userSchema = z
  .object({
    id: z.string().describe('Stable user id (the `sub` of tokens).'),
    username: z.string(),
    email: z.string(),
    status: z.enum(['active', 'disabled']),
    roles: z.array(z.string()),
    createdAt: epoch,
    updatedAt: epoch,
    passwordChangedAt: epoch.nullable(),
  })
  .meta({ id: 'User' });

export const userListSchema = z.object({ users: z.array(userSchema) }).meta({ id: 'UserList' });

export const createUserBody = createUserSchema.meta({ id: 'CreateUser' });
export const setPasswordBody = z.object({ password: passwordSchema }).strict().meta({ id: 'SetPassword' });
export const grantRoleBody = z.object({ role: roleNameSchema }).strict().meta({ id: 'GrantRole' });

export const userParams = z.object({ user: z.string().min(1).max(200).describe('User id or username (case-insensitive).') });
export const userRoleParams = userParams.extend({ role: roleNameSchema });

export const policySchema = z
  .object({
    version: z.string().describe('Content hash of `roles`; also the ETag of GET /policy.'),
    roles: z.record(z.string(), z.array(z.string())).describe('Role → permissions.'),
  })
  .meta({ id: 'Policy' });

const redirectUris = z.array(z.string().min(1).max(2000)).max(20);
const authMethod = z
  .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
  .describe('How the client authenticates at the token endpoint: its secret in the Basic header or the form, a JWT signed with its own key (RFC 7523), or not at all (a public client).');
const jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(10) }).meta({ id: 'Jwks' });

export const clientSchema = z
  .object({
    clientId: z.string(),
    name: z.string(),
    firstParty: z.boolean().describe('First-party clients skip the consent page.'),
    public: z.boolean().describe('Public clients have no secret (PKCE only).'),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    grantTypes: z.array(z.string()),
    scope: z.string().describe('Space-separated scopes the client may request.'),
    roles: z.array(z.string()).describe('Roles carried by client_credentials tokens.'),
    accessTokenTtl: z.number().int().nullable().describe('Lifetime of this client\'s access tokens in seconds; null: tokens.accessTokenTtl.'),
    createdAt: epoch,
    tokenEndpointAuthMethod: authMethod,
    jwks: jwks.optional().describe('private_key_jwt: the client\'s public keys.'),
    jwksUri: z.string().optional().describe('private_key_jwt: where the client publishes its public keys.'),
    previousSecretExpiresAt: epoch.optional().describe('After a secret rotation: until when the previous secret is still accepted.'),
  })
  .meta({ id: 'Client' });

export const clientListSchema = z.object({ clients: z.array(clientSchema) }).meta({ id: 'ClientList' });

export const connectedAppSchema = z
  .object({
    clientId: z.string(),
    clientName: z.string(),
    scopes: z.array(z.string()).describe('What the user granted the app.'),
    grantedAt: epoch,
  })
  .meta({ id: 'ConnectedApp' });

export const connectedAppListSchema = z.object({ apps: z.array(connectedAppSchema) }).meta({ id: 'ConnectedAppList' });

/** Shape only: the client service checks scopes, roles and grant combinations against config. */
export const createClientBody = z
  .object({
    clientId: z.string().min(3).max(100).optional().describe('Chosen id; generated when absent. Not shaped like a UUID (user ids are UUIDs).'),
    name: z.string().min(1).max(100),
    firstParty: z.boolean(),
    public: z.boolean().optional(),
    redirectUris: redirectUris.default([]).describe('Exact-match redirect URIs (authorization_code): https, http to localhost / a loopback address, or a reverse-DNS private-use scheme (com.example.app:/cb).'),
    postLogoutRedirectUris: redirectUris.optional(),
    grantTypes: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1),
    scope: z.string().max(1000).optional(),
    roles: z.array(roleNameSchema).max(64).optional(),
    accessTokenTtl: z.number().int().min(1).optional().describe('Lifetime of this client\'s access tokens in seconds (at most tokens.maxAccessTokenTtl); default tokens.accessTokenTtl.'),
    tokenEndpointAuthMethod: authMethod.optional().describe('Default: `none` for a public client, else client_secret_basic. private_key_jwt needs `jwks` or `jwksUri` (and returns no secret).'),
    jwks: jwks.optional().describe('private_key_jwt: the client\'s public keys (JWK Set).'),
    jwksUri: z.string().max(2000).optional().describe('private_key_jwt: https URL of the client\'s JWK Set.'),
  })
  .strict()
  .meta({ id: 'CreateClient' });

/** Only the fields given change; the result is validated like a new client. */
export const updateClientBody = z
  .object({
    name: z.string().min(1).max(100).optional(),
    redirectUris: redirectUris.optional().describe('Replaces the list. A removed URI is refused at the next authorization request.'),
    postLogoutRedirectUris: redirectUris.optional(),
    grantTypes: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1).optional().describe('Replaces the list; removing one revokes the client\'s grants and tokens.'),
    scope: z.string().max(1000).optional().describe('Replaces the scopes; removing one revokes the client\'s grants and tokens.'),
    roles: z.array(roleNameSchema).max(64).optional(),
    tokenEndpointAuthMethod: authMethod.optional().describe('Only between client_secret_basic and client_secret_post.'),
    jwks: jwks.optional().describe('private_key_jwt: new public keys (replace jwks or jwksUri).'),
    jwksUri: z.string().max(2000).optional().describe('private_key_jwt: new JWK Set URL (replaces jwks or jwksUri).'),
  })
  .strict()
  .meta({ id: 'UpdateClient' });

export const rotateSecretBody = z
  .object({
    overlap: z.number().int().min(0).max(30 * 86400).optional().describe('Seconds the previous secret keeps working; default clients.secretRotationOverlap; 0 = refused at once.'),
  })
  .strict()
  .meta({ id: 'RotateClientSecret' });

export const rotatedSecretSchema = z
  .object({
    client: clientSchema,
    secret: z.string().describe('The new client secret. Shown ONCE: it is stored only as a digest.'),
  })
  .meta({ id: 'RotatedClientSecret' });

export const createdClientSchema = z
  .object({
    client: clientSchema,
    secret: z.string().optional().describe('The client secret of a confidential client. Shown ONCE: it is stored only as a digest.'),
  })
  .meta({ id: 'CreatedClient' });

export const clientParams = z.object({ clientId: z.string().min(1).max(200) });
export const userAppParams = userParams.extend({ clientId: z.string().min(1).max(200) });

export const apiTokenSchema = z
  .object({
    id: z.string().describe('Public id of the token (lists and revocation name it; it grants nothing).'),
    name: z.string(),
    scopes: z.array(z.string()).describe('Permission names the token may use (intersected with the owner\'s current permissions).'),
    createdAt: epoch,
    expiresAt: epoch,
    lastUsedAt: epoch.optional(),
    lastUsedAddress: z.string().optional().describe('Client address of the last exchange.'),
  })
  .meta({ id: 'ApiToken' });

export const apiTokenListSchema = z.object({ apiTokens: z.array(apiTokenSchema) }).meta({ id: 'ApiTokenList' });

/** Shape only: the API token service checks scopes against the owner's permissions and the expiry against apiTokens.maxTtl. */
export const createApiTokenBody = z
  .object({
    name: z.string().min(1).max(100).describe('Tells the user\'s live tokens apart.'),
    scopes: z.array(z.string().min(1).max(200)).min(1).max(32).describe('Permission names, e.g. orders:read; each must cover one of the owner\'s permissions.'),
    expiresIn: z.number().int().min(1).describe('Lifetime in seconds (at most apiTokens.maxTtl).'),
  })
  .strict()
  .meta({ id: 'CreateApiToken' });

export const createdApiTokenSchema = z
  .object({
    token: z.string().describe('The API token (gth_…). Shown ONCE: it is stored only as a digest.'),
    summary: apiTokenSchema,
  })
  .meta({ id: 'CreatedApiToken' });

export const apiTokenParams = userParams.extend({ tokenId: z.string().min(1).max(100) });

export const linkedIdentitySchema = z
  .object({
    provider: z.string().describe('Id of the identity provider (identityProviders[].id).'),
    providerName: z.string(),
    subject: z.string().describe('The user\'s stable id at the provider.'),
    label: z.string().optional().describe('Username or e-mail at the provider, when it sent one.'),
    linkedAt: epoch,
  })
  .meta({ id: 'LinkedIdentity' });

export const linkedIdentityListSchema = z.object({ identities: z.array(linkedIdentitySchema) }).meta({ id: 'LinkedIdentityList' });

export const linkedIdentityParams = userParams.extend({ provider: z.string().min(1).max(32), subject: z.string().min(1).max(500) });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().describe('Stable error code (docs/errors.md).'),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('validation_failed: one entry per failing field.'),
  })
  .meta({ id: 'Problem' });
