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
  })
  .strict()
  .meta({ id: 'CreateClient' });

export const createdClientSchema = z
  .object({
    client: clientSchema,
    secret: z.string().optional().describe('The client secret of a confidential client. Shown ONCE: it is stored only as a digest.'),
  })
  .meta({ id: 'CreatedClient' });

export const clientParams = z.object({ clientId: z.string().min(1).max(200) });
export const userAppParams = userParams.extend({ clientId: z.string().min(1).max(200) });

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
