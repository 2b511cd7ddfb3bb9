/**
 * The admin API route table: one entry per route, each calling the same service the CLI calls.
 * Registration (./index.ts) and the OpenAPI document (./openapi.ts) are both built from it.
 */
import type { z } from 'zod';
import type { UserService } from '../identity/index.ts';
import type { ClientService, ConnectedApps } from '../oauth/index.ts';
import { fail } from '../shared/errors.ts';
import type { CompiledPolicy } from '../policy/index.ts';
import {
  clientListSchema, clientParams, connectedAppListSchema, userAppParams, clientSchema, createClientBody, createdClientSchema, createUserBody, grantRoleBody,
  policySchema, setPasswordBody, userListSchema, userParams, userRoleParams, userSchema,
} from './schemas.ts';

export interface AdminServices {
  users: UserService;
  clients: ClientService;
  connectedApps: Pick<ConnectedApps, 'list' | 'disconnect'>;
  policy: CompiledPolicy;
}

export interface RouteInput<P, B> {
  params: P;
  body: B;
  /** `user:<sub>` of the admin's access token. */
  actor: string;
  services: AdminServices;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to /admin/api, fastify syntax (`/users/:user`). */
  path: string;
  summary: string;
  tag: 'users' | 'roles' | 'clients';
  params?: z.ZodObject;
  body?: z.ZodType;
  /** Success status; 204 has no response body. */
  status: 200 | 201 | 204;
  response?: z.ZodType;
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
  route({ method: 'DELETE', path: '/clients/:clientId', tag: 'clients', summary: 'Remove an OAuth client', status: 204, params: clientParams,
    handler: async ({ services, params, actor }) => services.clients.remove(params.clientId, actor) }),
];
