/**
 * The HTTP application shell every listener shares: body limits, strict content types, security
 * headers, one error handler that speaks RFC 9457 problem details, and request metrics.
 * Components add their routes as fastify plugins; the OAuth endpoints install their own
 * RFC 6749 error rendering inside their encapsulated scope.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import type { Logger } from './logger.ts';
import { GatehouseError, isGatehouseError } from './errors.ts';
import { isStoreUnavailable, storeUnavailable } from './database-errors.ts';
import { toProblem, PROBLEM_CONTENT_TYPE } from './problem.ts';
import type { Metrics } from './metrics.ts';
import { isRefusal, tooManyRefusals, tooManyRefusalsPage, type RefusalLimiter } from './refusal-limit.ts';
import { compileCidrs, resolveClientAddress, type CidrList } from './client-address.ts';
import { ERROR_PAGE_HEADERS, errorPageHtml, prefersHtml, registerFavicon } from './browser.ts';

export interface HttpAppOptions {
  logger: Logger;
  /** Serve HTTPS with these options (the PKI listener); plain HTTP otherwise. */
  https?: import('node:https').ServerOptions;
  bodyLimit: number;
  /**
   * Proxies (CIDR blocks) whose X-Forwarded-For is believed; `request.ip` is then the client
   * address ./client-address.ts resolves. Empty or unset: the peer address, the header ignored.
   */
  trustedProxies?: readonly string[];
  metrics?: Metrics;
  /** Send `Strict-Transport-Security` on every response (the public origin is https). */
  hsts?: boolean;
  /** Per-client-IP refusal limiting of the credential-checking endpoints (./refusal-limit.ts). */
  refusals?: RefusalLimiter;
  /** Stylesheet the HTML error pages link (browsers get those instead of problem documents). */
  pageStylesheet?: string;
}

/** One year (RFC 6797); subdomains are not ours to pin. */
export const HSTS_HEADER = 'max-age=31536000';

/** Headers every response carries; pages add their CSP themselves. */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * Maps whatever was thrown to the public error: coded errors as they are, a database outage to
 * 503 `store_unavailable` (with Retry-After), the rest to 500/4xx.
 */
export function toPublicError(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  if (isStoreUnavailable(error)) return storeUnavailable(error);
  const fastifyError = error as FastifyError;
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatehouseError('body_too_large', undefined, { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatehouseError('unsupported_media_type', undefined, { cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GatehouseError('invalid_request', 'The request body is not valid JSON', { cause: error });
    default:
      break;
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return new GatehouseError('invalid_request', 'The request body is not valid JSON', { cause: error });
  }
  const status = (error as { statusCode?: number })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GatehouseError('invalid_request', undefined, { cause: error, detail: (error as Error).message });
  }
  return new GatehouseError('internal_error', undefined, { cause: error, detail: (error as Error)?.message });
}

/** The error as a problem document, or as an HTML page to a client that prefers one (a browser). */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: GatehouseError, pageStylesheet?: string): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  reply.header('vary', 'accept');
  if (prefersHtml(request)) return reply.code(error.status).headers(ERROR_PAGE_HEADERS).send(errorPageHtml(error, pageStylesheet));
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(toProblem(error, request.url.split('?')[0]));
}

/** Logs an error with its private detail at a level that matches its status. */
export function logError(request: FastifyRequest, error: GatehouseError): void {
  const entry = { code: error.code, status: error.status, detail: error.detail, err: error.cause instanceof Error ? error.cause : undefined };
  if (error.status >= 500) request.log.error(entry, 'request failed');
  else request.log.info(entry, 'request refused');
}

/**
 * `request.ip` is the client address `resolveClientAddress` finds, one rule for every listener.
 * fastify's own walk (proxy-addr) goes the same way — right to left while the hop is trusted —
 * but returns an entry as written: with a port, IPv4-mapped, or malformed, each a new string for
 * every per-IP counter. So the first hook resolves the client and leaves fastify a single entry to
 * read, and fastify trusts nothing but a configured proxy as the immediate peer: should anything
 * read `request.ip` before the hook, it gets the entry our own proxy appended, never the client's.
 * (From a peer that is no trusted proxy, `request.ip` is the socket address as Node reports it —
 * `::ffff:192.0.2.1` on a dual-stack listener — which every counter reduces with `addressBucket`.)
 */
function trustProxyFn(trusted: CidrList): (address: string, hop: number) => boolean {
  return (address, hop) => hop === 0 && trusted.matches(address);
}

function resolveClients(app: FastifyInstance, trusted: CidrList): void {
  app.addHook('onRequest', async (request) => {
    const headers = request.raw.headers;
    const peer = request.raw.socket.remoteAddress ?? '';
    if (trusted.matches(peer)) headers['x-forwarded-for'] = resolveClientAddress(peer, headers['x-forwarded-for'], trusted);
  });
}

/**
 * A blocked IP is answered 429 before routing goes further (no handler, no audit row). Which
 * endpoint a request is comes from the route fastify matched, not from the raw URL (see
 * ./refusal-limit.ts). Refusals of the problem-document and page endpoints are counted here; the
 * OAuth endpoints hijack their reply, so the provider middleware counts theirs.
 */
function limitRefusals(app: FastifyInstance, refusals: RefusalLimiter, pageStylesheet: string | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    const kind = refusals.endpoint(request.routeOptions.url);
    if (kind === undefined) return;
    const wait = await refusals.retryAfter(request.ip);
    if (wait === 0) return;
    if (kind === 'oauth') {
      return reply.code(429).header('retry-after', String(wait)).type('application/json').send({ error: 'invalid_request', error_description: tooManyRefusals(wait) });
    }
    if (kind === 'page') {
      return reply.code(429).header('retry-after', String(wait)).header('content-security-policy', "default-src 'none'; frame-ancestors 'none'").type('text/html; charset=utf-8').send(tooManyRefusalsPage(wait));
    }
    return sendProblem(request, reply, new GatehouseError('rate_limited', tooManyRefusals(wait), { headers: { 'retry-after': String(wait) } }), pageStylesheet);
  });
  // Counted before the answer leaves: the client that sees its limit-th refusal is blocked already.
  app.addHook('onSend', async (request, reply) => {
    const kind = refusals.endpoint(request.routeOptions.url);
    if ((kind !== 'api' && kind !== 'page') || !isRefusal(reply.statusCode, kind)) return;
    try {
      await refusals.refused(request.ip);
    } catch (error) {
      request.log.error({ err: error }, 'refusal limiter failed');
    }
  });
}

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const trusted = compileCidrs(options.trustedProxies ?? []);
  // pino's Logger and fastify's base logger type differ only in generics; the instance is the same.
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    trustProxy: trusted.cidrs.length > 0 ? trustProxyFn(trusted) : false,
    // Request logging is ours (one debug line per request, below); fastify's own is off.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  app.register(formbody, { bodyLimit: options.bodyLimit });
  // First of all hooks: everything after it reads the resolved client address.
  if (trusted.cidrs.length > 0) resolveClients(app, trusted);

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // On the raw response: routes that hijack the reply (the OAuth provider) send it too.
    if (options.hsts) reply.raw.setHeader('strict-transport-security', HSTS_HEADER);
  });
  if (options.refusals) limitRefusals(app, options.refusals, options.pageStylesheet);
  if (options.metrics) {
    const { httpDuration } = options.metrics;
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug({ method: request.method, url: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  registerFavicon(app);
  app.setErrorHandler((error, request, reply) => {
    const publicError = toPublicError(error);
    logError(request, publicError);
    return sendProblem(request, reply, publicError, options.pageStylesheet);
  });
  app.setNotFoundHandler((request, reply) => {
    return sendProblem(request, reply, new GatehouseError('not_found', `No resource at ${request.method} ${request.url.split('?')[0]}`), options.pageStylesheet);
  });
  return app;
}
