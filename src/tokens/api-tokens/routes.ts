/**
 * `POST /api-tokens/revoke` with `{"token": "gth_…"}`: whoever finds a leaked token can kill it,
 * without signing in. The answer is 204 whether the token existed, was live, or never was (so the
 * endpoint tells nothing about a token); only a body that is not `{ token: string }` is refused
 * (400). An actual revocation is audited `api_token.revoked` (reason `leaked`) and publishes
 * `tokens.revoked` for the JWTs exchanged for it.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { fail } from '../../shared/errors.ts';
import type { ApiTokenService } from './types.ts';

export const API_TOKEN_REVOKE_ROUTE = '/api-tokens/revoke';

const revokeBody = z.object({ token: z.string().min(1).max(512) });

export function registerApiTokenRoutes(app: FastifyInstance, deps: { apiTokens: Pick<ApiTokenService, 'revokeLeaked'> }): void {
  app.post(API_TOKEN_REVOKE_ROUTE, async (request, reply) => {
    const body = revokeBody.safeParse(request.body);
    if (!body.success) throw fail.invalid('Send a JSON object {"token": "gth_…"}');
    await deps.apiTokens.revokeLeaked(body.data.token.trim(), { ip: request.ip });
    return reply.code(204).header('cache-control', 'no-store').send();
  });
}
