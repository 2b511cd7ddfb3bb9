/**
 * The one place that writes the gateway's own answers: every refusal or failure a stage returns
 * becomes an RFC 9457 problem document here, with the header its status calls for —
 * `WWW-Authenticate` on bearer failures (RFC 6750 §3), `Allow` on 405, `Retry-After` on 429 —
 * or, for a browser without a session on a protected route, a redirect to the sign-in page.
 * Gateway answers carry the security headers; an error never carries a stack, a token or an
 * upstream's own words.
 */
import type { Socket } from 'node:net';
import type { GatehouseError } from '../shared/errors.ts';
import { toProblem, PROBLEM_CONTENT_TYPE } from '../shared/problem.ts';
import { HSTS_HEADER } from '../shared/http.ts';
import { escapeHtml } from '../shared/html.ts';
import { newRequestId } from './trace.ts';
import type { Exchange, GatewayState } from './exchange.ts';

/** On everything the gateway itself writes (never on upstream responses, which are the service's). */
const SECURITY_HEADERS = [
  'x-content-type-options', 'nosniff',
  'cache-control', 'no-store',
  'x-frame-options', 'DENY',
  'content-security-policy', "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy', 'no-referrer',
];

/** Sockets whose framing could not be trusted: whatever Node parsed behind the bad request is dropped. */
const brokenSockets = new WeakSet<Socket>();

export function isBroken(socket: Socket): boolean {
  return brokenSockets.has(socket);
}

/** Adds the headers every gateway answer carries (request id, CORS for an allowed origin, HSTS). */
function commonHeaders(exchange: Exchange, state: GatewayState, headers: string[]): void {
  exchange.requestId ??= newRequestId();
  headers.push('x-request-id', exchange.requestId);
  const cors = exchange.routeState?.cors;
  if (cors !== undefined) {
    headers.push('vary', 'Origin');
    if (exchange.corsOrigin !== undefined) headers.push('access-control-allow-origin', exchange.corsOrigin, ...cors.responseHeaders);
  }
  if (state.hsts) headers.push('strict-transport-security', HSTS_HEADER);
}

/** A request body Node has not read yet would be drained after the answer: close instead. */
function hasUnreadBody(exchange: Exchange): boolean {
  const head = exchange.head;
  if (head === undefined) return true;
  return (head.chunked || (head.contentLength !== undefined && head.contentLength !== '0')) && !exchange.req.readableEnded && exchange.req.readableFlowing !== true;
}

function write(exchange: Exchange, status: number, headers: string[], body: string | undefined): void {
  const { res, req } = exchange;
  if (exchange.closeConnection || hasUnreadBody(exchange)) {
    headers.push('connection', 'close');
    if (exchange.closeConnection) brokenSockets.add(req.socket);
    res.once('finish', () => req.socket.destroySoon());
  }
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

const wantsHtml = (exchange: Exchange) => exchange.head?.accept?.includes('text/html') === true;

export function sendError(exchange: Exchange, state: GatewayState, error: GatehouseError): void {
  const { res } = exchange;
  if (res.headersSent) {
    // Mid-stream failure: the status is gone; cutting the connection is the only honest signal.
    res.destroy();
    return;
  }
  const method = exchange.req.method;
  if (error.code === 'unauthorized' && state.session !== undefined && (method === 'GET' || method === 'HEAD') && wantsHtml(exchange)) {
    const headers = ['location', state.session.loginRedirect(exchange), ...SECURITY_HEADERS];
    commonHeaders(exchange, state, headers);
    return write(exchange, 303, headers, undefined);
  }
  const problem = toProblem(error, exchange.path === '' ? undefined : exchange.path);
  // A person in a browser gets a page they can read; programs get the problem document.
  const html = wantsHtml(exchange);
  const body = html ? errorPage(problem.title, problem.detail, problem.status) : JSON.stringify(problem);
  const headers = ['content-type', html ? 'text/html; charset=utf-8' : PROBLEM_CONTENT_TYPE, 'content-length', String(Buffer.byteLength(body)), ...SECURITY_HEADERS];
  if (error.headers !== undefined) for (const name in error.headers) headers.push(name, error.headers[name]!);
  commonHeaders(exchange, state, headers);
  write(exchange, error.status, headers, body);
}

/** The problem as a small page: no script, no style (the CSP allows none), escaped throughout. */
function errorPage(title: string, detail: string | undefined, status: number): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>${detail === undefined ? '' : `<p>${escapeHtml(detail)}</p>`}<p>Error ${status}. <a href="/">Home</a></p></main></body></html>`;
}

export function sendJson(exchange: Exchange, state: GatewayState, status: number, value: unknown, contentType = 'application/json'): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  const headers = ['content-type', contentType, 'content-length', String(Buffer.byteLength(body)), ...SECURITY_HEADERS];
  commonHeaders(exchange, state, headers);
  write(exchange, status, headers, body);
}

/** A gateway answer without a body (CORS preflight). */
export function sendEmpty(exchange: Exchange, state: GatewayState, status: number, extra: readonly string[]): void {
  const headers = [...extra, ...SECURITY_HEADERS];
  commonHeaders(exchange, state, headers);
  write(exchange, status, headers, undefined);
}
