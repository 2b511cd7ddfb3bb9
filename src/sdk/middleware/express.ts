/**
 * The bearer middleware for Express (5): `app.use(expressAuth(verifier))`, then `req.identity` in
 * every handler after it. Typed structurally (Express's request and response extend Node's), so
 * the SDK does not depend on Express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Verifier } from '../verify/types.ts';
import { bearerAuthenticator, type BearerOptions } from './bearer.ts';
import { sendRefusal, type RequestWithIdentity } from './node-http.ts';

export type ExpressMiddleware = (req: IncomingMessage & RequestWithIdentity, res: ServerResponse, next: (error?: unknown) => void) => void;

export function expressAuth(verifier: Verifier, options: BearerOptions = {}): ExpressMiddleware {
  const authenticate = bearerAuthenticator(verifier, options);
  return (req, res, next) => {
    authenticate(req).then((outcome) => {
      if (outcome.refusal) return sendRefusal(res, outcome.refusal);
      req.identity = outcome.identity;
      next();
    }, next);
  };
}
