/**
 * The little HTTP vocabulary the bookstore's services share: a route table, JSON bodies with a
 * size limit and a zod schema, and RFC 9457 problem answers. Plain node:http, so what the SDK
 * does (mTLS, token verification, `identity.can`) stays in plain sight in each service.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Identity } from '../../../src/sdk/index.ts';

export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export const problems = {
  notFound: (what: string) => new HttpProblem(404, 'not_found', `${what} was not found`),
  forbidden: (detail: string) => new HttpProblem(403, 'forbidden', detail),
  invalid: (detail: string, errors?: unknown) => new HttpProblem(422, 'validation_failed', detail, errors === undefined ? {} : { errors }),
  conflict: (detail: string) => new HttpProblem(409, 'conflict', detail),
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendProblem(res: ServerResponse, problem: HttpProblem): void {
  const text = JSON.stringify({ type: `urn:gatehouse:error:${problem.code}`, title: problem.message, status: problem.status, code: problem.code, ...problem.extra });
  res.writeHead(problem.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const MAX_BODY = 64 * 1024;

/** Reads a JSON body (at most 64 KiB) and validates it with `schema`. */
export async function readJson<S extends z.ZodType>(req: IncomingMessage, schema: S): Promise<z.output<S>> {
  if (!/^application\/json(\s*;|$)/i.test(req.headers['content-type'] ?? '')) throw new HttpProblem(415, 'unsupported_media_type', 'Send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'body_too_large', `The body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'invalid_request', 'The body is not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw problems.invalid('The request body failed validation', errors);
  }
  return result.data;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  /** Set when the request carried a valid access token. */
  identity: Identity | undefined;
}

export type Handler = (context: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

/** A route table: `['GET', '/api/books/:id', handler]`, matched segment by segment. */
export function router(table: Array<[method: string, path: string, handler: Handler]>): (method: string, path: string) => { handler: Handler; params: Record<string, string> } | 'method' | undefined {
  const routes: Route[] = table.map(([method, path, handler]) => ({ method, segments: path.split('/').slice(1), handler }));
  return (method, path) => {
    const segments = path.split('/').slice(1);
    let pathMatched = false;
    for (const route of routes) {
      if (route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((segment, i) => {
        if (segment.startsWith(':')) {
          params[segment.slice(1)] = decodeURIComponent(segments[i]!);
          return true;
        }
        return segment === segments[i];
      });
      if (!ok) continue;
      pathMatched = true;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  };
}

/** The caller's identity, or a 401 problem: for handlers that need a signed-in caller. */
export function requireIdentity(identity: Identity | undefined): Identity {
  if (identity === undefined) throw new HttpProblem(401, 'unauthorized', 'Sign in first');
  return identity;
}

/** The permission, or a 403 problem naming it. */
export function requirePermission(identity: Identity | undefined, permission: string): Identity {
  const caller = requireIdentity(identity);
  if (!caller.can(permission)) throw problems.forbidden(`This needs the permission ${permission}`);
  return caller;
}
