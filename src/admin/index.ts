/**
 * Admin HTTP API under /admin/api: JSON in and out, every route behind a bearer access token
 * (audience = issuer) carrying the `admin` scope and role, not revoked, of an active user
 * (./authenticate.ts); denials are audited as `admin.denied`.
 *
 * GET /admin/api/openapi.json is public: it describes the API, it grants nothing.
 *
 * Order per request: authenticate (onRequest, before the body is even read), check the content
 * type, validate params and body with the route's zod schemas (422 with per-field `errors`),
 * call the service (the same one the CLI calls), shape the answer with the response schema.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../events/audit.ts';
import type { AccessTokenVerifier } from '../tokens/index.ts';
import { GatehouseError } from '../shared/errors.ts';
import { parseInput } from '../shared/validation.ts';
import { adminRoutes, type AdminServices } from './routes.ts';
import { ADMIN_PREFIX, buildOpenApiDocument } from './openapi.ts';
import { adminAuthenticator, actorOf } from './authenticate.ts';

export { adminRoutes, type AdminRoute, type AdminServices } from './routes.ts';
export { buildOpenApiDocument, ADMIN_PREFIX } from './openapi.ts';
export * as adminSchemas from './schemas.ts';

export { ADMIN_ROLE, ADMIN_SCOPE } from './authenticate.ts';

export interface AdminDeps extends AdminServices {
  verifier: AccessTokenVerifier;
  /** `aud` the admin's access token must carry: the issuer. */
  audience: string;
  audit: AuditLog;
  /** True when the access token with this `jti` was revoked (logout, user disabled, password changed…). */
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Version string for the OpenAPI `info.version`. */
  version?: string;
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type);
}

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const services: AdminServices = { users: deps.users, clients: deps.clients, connectedApps: deps.connectedApps, policy: deps.policy, apiTokens: deps.apiTokens, linkedIdentities: deps.linkedIdentities };
  const authenticate = adminAuthenticator(deps);
  let openApi: string | undefined;

  app.get(`${ADMIN_PREFIX}/openapi.json`, async (request, reply) => {
    openApi ??= JSON.stringify(buildOpenApiDocument({ serverUrl: deps.audience, version: deps.version ?? '1' }));
    return reply.type('application/json; charset=utf-8').send(openApi);
  });

  app.register(async (scope) => {
    scope.addHook('onRequest', authenticate);

    for (const route of adminRoutes) {
      scope.route({
        method: route.method,
        url: route.path,
        handler: async (request, reply) => {
          if (route.body && !isJson(request)) throw new GatehouseError('unsupported_media_type', 'Send the body as application/json');
          const params = route.params ? parseInput(route.params, request.params, 'The path is invalid') : undefined;
          const body = route.body ? parseInput(route.body, request.body ?? {}) : undefined;
          const claims = request.accessToken!;
          const result = await route.handler({ params, body, services, actor: actorOf(claims) });
          if (route.status === 204 || !route.response) return reply.code(204).send();
          // The response schema is the contract: it also keeps anything unlisted out of the answer.
          return reply.code(route.status).send(route.response.parse(result));
        },
      });
    }
  }, { prefix: ADMIN_PREFIX });
}
