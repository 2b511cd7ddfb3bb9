/**
 * The admin API route table: one entry per route, each calling the same service the CLI calls.
 * Registration (./index.ts) and the OpenAPI document (./openapi.ts) are both built from it.
 */
import type { z } from 'zod';
import type { UserService, LinkedIdentities } from '../identity/index.ts';
import type { ClientService, ConnectedApps } from '../oauth/index.ts';
import type { CompiledPolicy } from '../policy/index.ts';
import type { ApiTokenService } from '../tokens/index.ts';
import { fail } from '../shared/errors.ts';
import {
  clientListSchema, clientParams, connectedAppListSchema, userAppParams, clientSchema, createClientBody, createdClientSchema, createUserBody, grantRoleBody,
  policySchema, setPasswordBody, userListSchema, userParams, userRoleParams, userSchema,
  apiTokenListSchema, apiTokenParams, createApiTokenBody, createdApiTokenSchema,
  updateClientBody, rotateSecretBody, rotatedSecretSchema,
  linkedIdentityListSchema, linkedIdentityParams,
} from './schemas.ts';

export interface AdminServices {
  users: UserService;
  clients: ClientService;
  connectedApps: Pick<ConnectedApps, 'list' | 'disconnect'>;
  policy: CompiledPolicy;
  apiTokens: ApiTokenService;
  linkedIdentities: LinkedIdentities;
}

export interface RouteInput<P, B> {
  params: P;
  body: B;
  /** `user:<sub>` of the admin's access token. */
  actor: string;
  services: AdminServices;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to /admin/api, fastify syntax (`/users/:user`). */
  path: string;
  summary: string;
  tag: 'users' | 'roles' | 'clients' | 'api-tokens' | 'identities';
  params?: z.ZodObject;
  body?: z.ZodType;
  /** Success status; 204 has no response body. */
  status: 200 | 201 | 204;
  response?: z.ZodType;
  /** When the route answers 409, why (OpenAPI). */
  conflict?: string;
  handler(input: RouteInput<any, any>): Promise<unknown>;
}

/** Typed at definition (params and body inferred from their schemas), erased in the table. */
function route<P extends z.ZodObject | undefined, B extends z.ZodType | undefined>(
  definition: Omit<AdminRoute, 'handler' | 'params' | 'body'> & {
    params?: P;
    body?: B;
    handler(input: RouteInput<P extends z.ZodObject ? z.output<P> : undefined, B extends z.ZodType ? z.output<B> : undefined>): Promise<unknown>;
  },
): AdminRoute {
  return definition as AdminRoute;
}

export const adminRoutes: AdminRoute[] = [
  route({ method: 'GET', path: '/users', tag: 'users', summary: 'List users', status: 200, response: userListSchema,
    handler: async ({ services }) => ({ users: await services.users.list() }) }),
  route({ method: 'POST', path: '/users', tag: 'users', summary: 'Create a user', status: 201, body: createUserBody, response: userSchema,
    handler: async ({ services, body, actor }) => services.users.create(body, actor) }),
  route({ method: 'GET', path: '/users/:user', tag: 'users', summary: 'Show a user', status: 200, params: userParams, response: userSchema,
    handler: async ({ services, params }) => services.users.find(params.user) }),
  route({ method: 'POST', path: '/users/:user/disable', tag: 'users', summary: 'Disable a user and revoke their tokens', status: 200, params: userParams, response: userSchema,
    handler: async ({ services, params, actor }) => services.users.disable(params.user, actor) }),
  route({ method: 'POST', path: '/users/:user/enable', tag: 'users', summary: 'Enable a user', status: 200, params: userParams, response: userSchema,
    handler: async ({ services, params, actor }) => services.users.enable(params.user, actor) }),
  route({ method: 'PUT', path: '/users/:user/password', tag: 'users', summary: 'Set a user\'s password and revoke their tokens', status: 200, params: userParams, body: setPasswordBody, response: userSchema,
    handler: async ({ services, params, body, actor }) => services.users.setPassword(params.user, body.password, actor) }),
  route({ method: 'POST', path: '/users/:user/roles', tag: 'users', summary: 'Grant a role', status: 200, params: userParams, body: grantRoleBody, response: userSchema,
    handler: async ({ services, params, body, actor }) => services.users.grantRole(params.user, body.role, actor) }),
  route({ method: 'DELETE', path: '/users/:user/roles/:role', tag: 'users', summary: 'Revoke a role', status: 200, params: userRoleParams, response: userSchema,
    handler: async ({ services, params, actor }) => services.users.revokeRole(params.user, params.role, actor) }),
  route({ method: 'GET', path: '/users/:user/apps', tag: 'users', summary: 'The third-party apps a user has connected (granted access)', status: 200, params: userParams, response: connectedAppListSchema,
    handler: async ({ services, params }) => ({ apps: await services.connectedApps.list((await services.users.find(params.user)).id) }) }),
  route({ method: 'DELETE', path: '/users/:user/apps/:clientId', tag: 'users', summary: 'Disconnect a third-party app: revoke its grants and tokens for the user at once', status: 204, params: userAppParams,
    handler: async ({ services, params, actor }) => {
      const user = await services.users.find(params.user);
      if (!(await services.connectedApps.disconnect(user.id, params.clientId, actor))) throw fail.notFound(`Connected app ${params.clientId}`);
    } }),
  route({ method: 'GET', path: '/roles', tag: 'roles', summary: 'The role → permissions policy (as served at GET /policy)', status: 200, response: policySchema,
    handler: async ({ services }) => services.policy.document }),
  route({ method: 'GET', path: '/clients', tag: 'clients', summary: 'List OAuth clients', status: 200, response: clientListSchema,
    handler: async ({ services }) => ({ clients: await services.clients.list() }) }),
  route({ method: 'POST', path: '/clients', tag: 'clients', summary: 'Register an OAuth client (a confidential client\'s secret is in this response only)', status: 201, body: createClientBody, response: createdClientSchema,
    handler: async ({ services, body, actor }) => services.clients.create(body, actor) }),
  route({ method: 'GET', path: '/clients/:clientId', tag: 'clients', summary: 'Show an OAuth client', status: 200, params: clientParams, response: clientSchema,
    handler: async ({ services, params }) => services.clients.find(params.clientId) }),
  route({ method: 'PATCH', path: '/clients/:clientId', tag: 'clients', summary: 'Change an OAuth client (only the fields given; effective at the next request)', status: 200, params: clientParams, body: updateClientBody, response: clientSchema,
    handler: async ({ services, params, body, actor }) => services.clients.update(params.clientId, body, actor) }),
  route({ method: 'POST', path: '/clients/:clientId/rotate-secret', tag: 'clients', summary: 'Rotate a client\'s secret (the new one is in this response only; the old one works for the overlap)', status: 200, params: clientParams, body: rotateSecretBody, response: rotatedSecretSchema, conflict: 'The client has no secret (public or private_key_jwt)',
    handler: async ({ services, params, body, actor }) => services.clients.rotateSecret(params.clientId, actor, body.overlap === undefined ? {} : { overlap: body.overlap }) }),
  route({ method: 'DELETE', path: '/clients/:clientId', tag: 'clients', summary: 'Remove an OAuth client', status: 204, params: clientParams,
    handler: async ({ services, params, actor }) => services.clients.remove(params.clientId, actor) }),
  route({ method: 'GET', path: '/users/:user/api-tokens', tag: 'api-tokens', summary: 'List a user\'s live personal API tokens (never the tokens themselves)', status: 200, params: userParams, response: apiTokenListSchema,
    handler: async ({ services, params }) => ({ apiTokens: await services.apiTokens.list((await services.users.find(params.user)).id) }) }),
  route({ method: 'POST', path: '/users/:user/api-tokens', tag: 'api-tokens', summary: 'Create a personal API token for a user (the token is in this response only)', status: 201, params: userParams, body: createApiTokenBody, response: createdApiTokenSchema,
    handler: async ({ services, params, body, actor }) => services.apiTokens.create({ userId: (await services.users.find(params.user)).id, ...body }, actor) }),
  route({ method: 'DELETE', path: '/users/:user/api-tokens/:tokenId', tag: 'api-tokens', summary: 'Revoke a personal API token (JWTs exchanged for it are revoked too)', status: 204, params: apiTokenParams,
    handler: async ({ services, params, actor }) => {
      const user = await services.users.find(params.user);
      if (!(await services.apiTokens.revoke(user.id, params.tokenId, actor))) throw fail.notFound(`live API token ${params.tokenId} of user ${params.user}`);
    } }),
  route({ method: 'GET', path: '/users/:user/identities', tag: 'identities', summary: 'List the identities at external identity providers linked to a user', status: 200, params: userParams, response: linkedIdentityListSchema,
    handler: async ({ services, params }) => ({ identities: await services.linkedIdentities.list((await services.users.find(params.user)).id) }) }),
  route({ method: 'DELETE', path: '/users/:user/identities/:provider/:subject', tag: 'identities', summary: 'Unlink an identity from a user', status: 204, params: linkedIdentityParams, conflict: 'It is the only way this user (who has no password) can sign in',
    handler: async ({ services, params, actor }) => {
      const user = await services.users.find(params.user);
      if (!(await services.linkedIdentities.unlink(user.id, params.provider, params.subject, actor))) throw fail.notFound(`identity ${params.provider}/${params.subject} linked to user ${params.user}`);
    } }),
];
