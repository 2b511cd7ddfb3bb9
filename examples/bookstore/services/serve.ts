/**
 * How each bookstore service listens: the SDK's mutual-TLS server (only the callers named in
 * `allow` get in, by their SPIFFE ID), then the access token the gateway forwarded is verified
 * with the SDK's verifier — the service trusts no header it did not verify itself — and the
 * request goes to the service's route table.
 */
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMtlsServer, bearerAuthenticator, type AllowRule, type Identity, type SdkLogger, type Verifier, type WorkloadIdentity } from '../../../src/sdk/index.ts';
import { HttpProblem, sendProblem, type Handler, type router } from './http.ts';

export interface ServiceOptions {
  name: string;
  identity: WorkloadIdentity;
  verifier: Verifier;
  allow: AllowRule[];
  routes: ReturnType<typeof router>;
  logger: SdkLogger;
}

/** Anonymous calls (the gateway forwards no token on public routes) have no identity; a token that is sent must verify. */
async function identify(req: IncomingMessage, res: ServerResponse, authenticate: ReturnType<typeof bearerAuthenticator>): Promise<Identity | undefined | 'answered'> {
  if (req.headers.authorization === undefined) return undefined;
  const outcome = await authenticate(req);
  if (outcome.identity) return outcome.identity;
  res.writeHead(outcome.refusal.status, { ...outcome.refusal.headers, 'content-length': Buffer.byteLength(outcome.refusal.body) }).end(outcome.refusal.body);
  return 'answered';
}

export function serveService(options: ServiceOptions): Server {
  const { routes, logger, name } = options;
  const authenticate = bearerAuthenticator(options.verifier, { onRefused: ({ code, reason }) => logger.info({ service: name, code, reason }, 'request refused') });
  return createMtlsServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const found = routes(req.method ?? 'GET', path);
    const run = async () => {
      if (found === undefined) throw new HttpProblem(404, 'not_found', `No resource at ${path}`);
      if (found === 'method') throw new HttpProblem(405, 'method_not_allowed', `${req.method} is not allowed on ${path}`);
      const identity = await identify(req, res, authenticate);
      if (identity === 'answered') return;
      await (found.handler as Handler)({ req, res, params: found.params, identity });
    };
    run().catch((error: unknown) => {
      if (error instanceof HttpProblem) return sendProblem(res, error);
      logger.error({ err: error, service: name, path }, 'request failed');
      sendProblem(res, new HttpProblem(500, 'internal_error', 'An unexpected error occurred'));
    });
  }, { identity: options.identity, allow: options.allow, logger });
}
