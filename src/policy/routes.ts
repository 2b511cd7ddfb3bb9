/**
 * GET /policy — the compiled role → permissions document for the gateway and the SDK.
 *
 * Public on purpose: it names roles and permissions, not users or secrets, and the gateway must
 * be able to fetch it before it holds any credential. Clients revalidate with If-None-Match and
 * get 304 while the version is unchanged.
 */
import type { FastifyInstance } from 'fastify';
import { sendCacheable } from '../shared/http-cache.ts';
import type { CompiledPolicy } from './compile.ts';

export interface PolicyRouteOptions {
  policy: CompiledPolicy;
  /** Seconds a client may reuse the document without revalidating. */
  maxAge?: number;
}

export function registerPolicyRoutes(app: FastifyInstance, options: PolicyRouteOptions): void {
  const { policy } = options;
  const cacheControl = `public, max-age=${options.maxAge ?? 60}`;
  const body = JSON.stringify(policy.document);
  app.get('/policy', async (request, reply) => sendCacheable(request, reply, { body, type: 'application/json; charset=utf-8', etag: policy.etag, cacheControl }));
}
