/**
 * oidc-provider inside our fastify app. Only the provider's routes (one line each below) reach it;
 * fastify neither parses their bodies (the provider reads the stream itself) nor answers them
 * (the reply is hijacked and handed to `provider.callback()`).
 *
 * The origin is pinned: Host and X-Forwarded-* are rewritten from the issuer, so discovery and
 * every URL the provider builds use the issuer's origin whatever the client sent.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROUTES } from './provider-config.ts';

type Method = 'GET' | 'POST' | 'OPTIONS';

export const PROVIDER_ROUTES: Array<[path: string, methods: Method[]]> = [
  ['/.well-known/openid-configuration', ['GET', 'OPTIONS']],
  ['/.well-known/oauth-authorization-server', ['GET', 'OPTIONS']],
  [ROUTES.authorization, ['GET', 'POST']],
  [`${ROUTES.authorization}/:uid`, ['GET']],
  [ROUTES.token, ['POST', 'OPTIONS']],
  [ROUTES.userinfo, ['GET', 'POST', 'OPTIONS']],
  [ROUTES.introspection, ['POST', 'OPTIONS']],
  [ROUTES.revocation, ['POST', 'OPTIONS']],
  [ROUTES.end_session, ['GET', 'POST']],
  [`${ROUTES.end_session}/confirm`, ['POST']],
  [`${ROUTES.end_session}/success`, ['GET']],
  // Dynamic client registration: the provider answers 404 unless oauth.dynamicRegistration.enabled.
  [ROUTES.registration, ['POST', 'OPTIONS']],
];

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export function originPinner(issuer: string): (request: FastifyRequest) => void {
  const url = new URL(issuer);
  const https = url.protocol === 'https:';
  return (request) => {
    const headers = request.raw.headers;
    headers.host = url.host;
    delete headers['x-forwarded-host'];
    delete headers['x-forwarded-port'];
    if (https) headers['x-forwarded-proto'] = 'https';
    else delete headers['x-forwarded-proto'];
    // The client address as fastify resolved it (honouring http.trustedProxies), for the provider's ctx.ip.
    headers['x-forwarded-for'] = request.ip;
  };
}

/**
 * JWKS is served here, not by the provider: it also publishes verify-only keys of another issuer,
 * which oidc-provider (holding only keys it can sign with) cannot carry.
 */
function mountJwks(app: FastifyInstance, jwks: () => Promise<unknown>): void {
  app.route({
    method: ['GET', 'OPTIONS'],
    url: ROUTES.jwks,
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      reply.header('access-control-allow-origin', '*');
      if (request.method === 'OPTIONS') return reply.code(204).header('access-control-allow-methods', 'GET').send();
      return reply.type('application/jwk-set+json; charset=utf-8').send(JSON.stringify(await jwks()));
    },
  });
  app.route({
    method: ALL_METHODS.filter((m) => m !== 'GET' && m !== 'OPTIONS'),
    url: ROUTES.jwks,
    exposeHeadRoute: false,
    handler: (request, reply) =>
      reply.code(405).header('allow', 'GET, OPTIONS').type('application/json').send({ error: 'invalid_request', error_description: `${request.method} is not allowed on ${ROUTES.jwks}; use GET` }),
  });
}

export function mountProvider(
  app: FastifyInstance,
  options: { callback(): (req: IncomingMessage, res: ServerResponse) => unknown; issuer: string; jwks: () => Promise<unknown> },
): void {
  const pin = originPinner(options.issuer);
  mountJwks(app, options.jwks);
  app.register(async (scope) => {
    // The provider reads bodies itself (with its own limit): fastify must leave the stream alone.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    for (const [path, methods] of PROVIDER_ROUTES) {
      scope.route({
        method: methods,
        url: path,
        exposeHeadRoute: false,
        handler: (request, reply) => {
          pin(request);
          reply.hijack();
          reply.raw.setHeader('x-content-type-options', 'nosniff');
          reply.raw.setHeader('referrer-policy', 'no-referrer');
          void options.callback()(request.raw, reply.raw);
        },
      });
      const others = ALL_METHODS.filter((m) => !methods.includes(m as Method));
      scope.route({
        method: [...others],
        url: path,
        exposeHeadRoute: false,
        handler: (request, reply) =>
          reply
            .code(405)
            .header('allow', methods.join(', '))
            .type('application/json')
            .send({ error: 'invalid_request', error_description: `${request.method} is not allowed on ${path}; use ${methods.filter((m) => m !== 'OPTIONS').join(' or ')}` }),
      });
    }
  });
}
