/**
 * The bearer middleware for a plain `node:http` (or `node:https`) server:
 *
 *   const authenticate = nodeHttpAuth(verifier);
 *   createServer(async (req, res) => {
 *     const identity = await authenticate(req, res);
 *     if (!identity) return; // already answered 400/401/503
 *     …
 *   });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, Verifier } from '../verify/types.ts';
import { bearerAuthenticator, type BearerOptions, type Refusal } from './bearer.ts';

/** A request the middleware authenticated carries its caller. */
export interface RequestWithIdentity {
  identity?: Identity;
}

export function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { ...refusal.headers, 'content-length': Buffer.byteLength(refusal.body) }).end(refusal.body);
}

/** Resolves to the identity (also set as `req.identity`), or undefined after answering the refusal. */
export function nodeHttpAuth(verifier: Verifier, options: BearerOptions = {}): (req: IncomingMessage & RequestWithIdentity, res: ServerResponse) => Promise<Identity | undefined> {
  const authenticate = bearerAuthenticator(verifier, options);
  return async (req, res) => {
    const outcome = await authenticate(req);
    if (outcome.refusal) {
      sendRefusal(res, outcome.refusal);
      return undefined;
    }
    req.identity = outcome.identity;
    return outcome.identity;
  };
}
