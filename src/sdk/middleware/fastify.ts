/**
 * The bearer middleware for Fastify (5), as an `onRequest` (or `preHandler`) hook:
 *
 *   app.decorateRequest('identity', null);
 *   app.addHook('onRequest', fastifyAuth(verifier));   // then request.identity in handlers
 *
 * Typed structurally, so the SDK does not depend on Fastify.
 */
import type { IncomingMessage } from 'node:http';
import type { Identity, Verifier } from '../verify/types.ts';
import { bearerAuthenticator, type BearerOptions } from './bearer.ts';

export interface FastifyLikeRequest {
  raw: IncomingMessage;
  identity?: Identity | null;
}

export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: string): unknown;
}

export function fastifyAuth(verifier: Verifier, options: BearerOptions = {}): (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<unknown> {
  const authenticate = bearerAuthenticator(verifier, options);
  return async (request, reply) => {
    const outcome = await authenticate(request.raw);
    if (outcome.refusal) return reply.code(outcome.refusal.status).headers(outcome.refusal.headers).send(outcome.refusal.body);
    request.identity = outcome.identity;
    return undefined;
  };
}
