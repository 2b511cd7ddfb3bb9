/**
 * The headers of the forwarded request and of the relayed response. The upstream receives the
 * client's headers minus everything ./request-head.ts dropped, plus exactly what the gateway
 * vouches for: the verified access token as the one `Authorization: Bearer` (the client's own
 * header unchanged on `passthrough` routes, none on `public` ones), `X-Forwarded-For/-Proto/-Host`
 * (appended to a trusted proxy's, set fresh otherwise), `X-Request-Id` and `traceparent`. The
 * client gets the upstream's response headers minus hop-by-hop ones, with the request id, CORS
 * (on routes with a policy, replacing the upstream's), HSTS, and the session cookie when the
 * gateway refreshed or cleared it on the way in.
 */
import { HSTS_HEADER } from '../shared/http.ts';
import { validTracestate } from './trace.ts';
import type { Exchange, GatewayState } from './exchange.ts';

/** Request headers for the upstream (reuses the head's forward list: built once per request). */
export function upstreamRequestHeaders(exchange: Exchange, state: GatewayState): string[] {
  const head = exchange.head!;
  const headers = head.forward;
  const auth = exchange.route!.auth;
  if (auth === 'authenticated') headers.push('authorization', `Bearer ${exchange.token!}`);
  else if (auth === 'passthrough' && head.authorization !== undefined) headers.push('authorization', head.authorization);
  if (head.cookie !== undefined) {
    const cookie = state.session === undefined ? head.cookie : state.session.stripCookie(head.cookie);
    if (cookie !== undefined) headers.push('cookie', cookie);
  }
  if (head.contentLength !== undefined) headers.push('content-length', head.contentLength);
  headers.push(
    'x-forwarded-for', head.forwardedFor === undefined ? exchange.peer : `${head.forwardedFor}, ${exchange.peer}`,
    'x-forwarded-proto', head.forwardedProto ?? 'http',
    'x-forwarded-host', head.forwardedHost ?? head.host!,
    'x-request-id', exchange.requestId!,
    'traceparent', exchange.traceparent!,
  );
  // tracestate belongs to the traceparent the client sent; a fresh trace starts without one.
  if (exchange.traceparent === head.traceparent && validTracestate(head.tracestate)) headers.push('tracestate', head.tracestate);
  return headers;
}

const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate']);

function connectionNamed(value: string | string[]): Set<string> {
  const named = new Set<string>();
  for (const token of (typeof value === 'string' ? value : value.join(',')).split(',')) named.add(token.trim().toLowerCase());
  return named;
}

/** The Set-Cookie lines already set on the response (by the session authenticator), removed from it. */
function takeSetCookie(exchange: Exchange): string[] | undefined {
  const set = exchange.res.getHeader('set-cookie');
  if (set === undefined) return undefined;
  exchange.res.removeHeader('set-cookie');
  return Array.isArray(set) ? set : [String(set)];
}

/** Response headers for the client, flat `[name, value, …]` (undici hands them parsed, lower-case). */
export function clientResponseHeaders(exchange: Exchange, upstream: Record<string, string | string[] | undefined>, hsts: boolean): string[] {
  const out: string[] = [];
  const cors = exchange.routeState!.cors;
  // The session was refreshed or cleared on the way in: its Set-Cookie joins the upstream's
  // (writeHead would drop it otherwise), and that response must never be kept by a shared cache.
  const sessionCookies = takeSetCookie(exchange);
  const connection = upstream.connection;
  const named = connection === undefined ? undefined : connectionNamed(connection);
  for (const name in upstream) {
    if (RESPONSE_HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
    if (named !== undefined && named.has(name)) continue;
    if (cors !== undefined && name.startsWith('access-control-')) continue;
    if (sessionCookies !== undefined && name === 'cache-control') continue;
    const value = upstream[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const item of value) out.push(name, item);
  }
  out.push('x-request-id', exchange.requestId!);
  if (sessionCookies !== undefined) {
    for (const line of sessionCookies) out.push('set-cookie', line);
    out.push('cache-control', 'no-store');
  }
  if (cors !== undefined) {
    out.push('vary', 'Origin');
    if (exchange.corsOrigin !== undefined) out.push('access-control-allow-origin', exchange.corsOrigin, ...cors.responseHeaders);
  }
  if (hsts) out.push('strict-transport-security', HSTS_HEADER);
  return out;
}
