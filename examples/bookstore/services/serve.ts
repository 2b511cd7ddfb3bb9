/**
 * How each bookstore service listens: the SDK's mutual-TLS server (only the callers named in
 * `allow` get in, by their SPIFFE ID), then the access token the gateway forwarded is verified
 * with the SDK's verifier — the service trusts no header it did not verify itself — and the
 * request goes to the service's route table.
 */
import type { Server } from 'node:https';
import { createMtlsServer, VerificationError, type AllowRule, type Identity, type SdkLogger, type Verifier, type WorkloadIdentity } from '../../../src/sdk/index.ts';
import { HttpProblem, sendProblem, type Handler, type router } from './http.ts';

export interface ServiceOptions {
  name: string;
  identity: WorkloadIdentity;
  verifier: Verifier;
  allow: AllowRule[];
  routes: ReturnType<typeof router>;
  logger: SdkLogger;
}

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

async function identify(authorization: string | undefined, verifier: Verifier): Promise<Identity | undefined> {
  if (authorization === undefined) return undefined;
  const match = BEARER.exec(authorization);
  if (!match) throw new HttpProblem(401, 'invalid_token', 'Expected Authorization: Bearer <token>');
  try {
    return await verifier.verify(match[1]!);
  } catch (error) {
    if (error instanceof VerificationError) throw new HttpProblem(401, 'invalid_token', 'The access token is invalid, expired or revoked');
    throw error;
  }
}

export function serveService(options: ServiceOptions): Server {
  const { routes, verifier, logger, name } = options;
  return createMtlsServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const found = routes(req.method ?? 'GET', path);
    const run = async () => {
      if (found === undefined) throw new HttpProblem(404, 'not_found', `No resource at ${path}`);
      if (found === 'method') throw new HttpProblem(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`);
      const identity = await identify(req.headers.authorization, verifier);
      await (found.handler as Handler)({ req, res, params: found.params, identity });
    };
    run().catch((error: unknown) => {
      if (error instanceof HttpProblem) return sendProblem(res, error);
      logger.error({ err: error, service: name, path }, 'request failed');
      sendProblem(res, new HttpProblem(500, 'internal_error', 'An unexpected error occurred'));
    });
  }, { identity: options.identity, allow: options.allow, logger });
}
