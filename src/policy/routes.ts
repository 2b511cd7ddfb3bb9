/**
 * GET /policy — the compiled role → permissions document for the gateway and the SDK.
 *
 * Public on purpose: it names roles and permissions, not users or secrets, and the gateway must
 * be able to fetch it before it holds any credential. Clients revalidate with If-None-Match and
 * get 304 while the version is unchanged.
 */
import type { FastifyInstance } from 'fastify';
import type { CompiledPolicy } from './compile.ts';

export interface PolicyRouteOptions {
  policy: CompiledPolicy;
  /** Seconds a client may reuse the document without revalidating. */
  maxAge?: number;
}

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison; `*` matches any current entity. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

export function registerPolicyRoutes(app: FastifyInstance, options: PolicyRouteOptions): void {
  const { policy } = options;
  const cacheControl = `public, max-age=${options.maxAge ?? 60}`;
  const body = JSON.stringify(policy.document);
  app.get('/policy', async (request, reply) => {
    reply.header('etag', policy.etag).header('cache-control', cacheControl);
    if (etagMatches(request.headers['if-none-match'], policy.etag)) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
