/**
 * One pass over the client's raw headers: what the pipeline needs to read (Authorization, Cookie,
 * Origin, Accept, framing, trace ids) and the headers that may travel on to the upstream. Headers
 * that could pass for identity or routing information are dropped here, by name, so nothing the
 * client wrote can impersonate what the gateway itself adds (./upstream-request.ts).
 *
 * Dropped: hop-by-hop headers (RFC 9110 §7.6.1) and those the `Connection` header names;
 * `Host`, `Content-Length` and `Transfer-Encoding` (the gateway frames the upstream request);
 * `Authorization` and `Cookie` (rewritten); `Proxy-Authorization`; `Expect`; any `X-Gatehouse-*`;
 * `Forwarded`, `X-Forwarded-*` (kept only from a trusted proxy); `X-Real-IP`, `X-Client-IP`,
 * `True-Client-IP`, `X-Remote-User`, `X-User`, `X-User-Id`; method- and path-override headers
 * (./protocol.ts); the client's
 * `X-Request-Id`, `traceparent` and `tracestate` (validated, then set again by the gateway).
 */

import { METHOD_OVERRIDE_HEADERS, PATH_OVERRIDE_HEADERS } from './protocol.ts';

/** How the gateway treats a client header (by lower-case name). */
const DROP = 0;
const AUTHORIZATION = 1;
const COOKIE = 2;
const HOST = 3;
const ORIGIN = 4;
const ACCEPT = 5;
const CONTENT_LENGTH = 6;
const TRANSFER_ENCODING = 7;
const CONNECTION = 8;
const REQUEST_ID = 9;
const TRACEPARENT = 10;
const TRACESTATE = 11;
const PREFLIGHT_METHOD = 12;
const X_FORWARDED_FOR = 13;
const X_FORWARDED_PROTO = 14;
const X_FORWARDED_HOST = 15;
const FORWARDED = 16;

const FORWARD = 17;

/** Each lower-case name's kind. */
const KIND_OF: ReadonlyArray<readonly [string, number]> = [
  // hop-by-hop (RFC 9110 §7.6.1) and proxy credentials
  ['keep-alive', DROP], ['proxy-connection', DROP], ['te', DROP], ['trailer', DROP], ['upgrade', DROP],
  ['proxy-authorization', DROP], ['proxy-authenticate', DROP],
  // undici refuses `expect`; the gateway answers 100-continue itself (./server.ts)
  ['expect', DROP],
  // identity a client must not be able to assert
  ['x-real-ip', DROP], ['x-client-ip', DROP], ['true-client-ip', DROP], ['x-remote-user', DROP], ['x-user', DROP], ['x-user-id', DROP],
  // another method or path than the one authorized
  ...[...METHOD_OVERRIDE_HEADERS, ...PATH_OVERRIDE_HEADERS].map((name) => [name, DROP] as const),
  ['authorization', AUTHORIZATION], ['cookie', COOKIE], ['host', HOST], ['origin', ORIGIN], ['accept', ACCEPT],
  ['content-length', CONTENT_LENGTH], ['transfer-encoding', TRANSFER_ENCODING], ['connection', CONNECTION],
  ['x-request-id', REQUEST_ID], ['traceparent', TRACEPARENT], ['tracestate', TRACESTATE],
  ['access-control-request-method', PREFLIGHT_METHOD],
  ['x-forwarded-for', X_FORWARDED_FOR], ['x-forwarded-proto', X_FORWARDED_PROTO], ['x-forwarded-host', X_FORWARDED_HOST], ['forwarded', FORWARDED],
  // Common headers that simply go on: listed only so that their usual spellings are found
  // without lower-casing the name (any other header also goes on, unless x-gatehouse-* or x-forwarded-*).
  ...['user-agent', 'accept-encoding', 'accept-language', 'content-type', 'referer', 'cache-control', 'pragma', 'if-none-match',
    'if-modified-since', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'upgrade-insecure-requests',
    'priority', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform'].map((name) => [name, FORWARD] as const),
];

const titleCase = (name: string) => name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());

/**
 * Kinds by name, in lower case and in Title-Case (`Content-Length`, as curl, wrk and browsers
 * write HTTP/1.1 names): those two spellings are looked up as they come, and only another one is
 * lower-cased first. A header's name is a new string in every request, and lower-casing it cost
 * more than the lookup (callgrind, BENCHMARKS.md).
 */
const KINDS = new Map<string, number>(KIND_OF.flatMap(([name, kind]) => [[name, kind], [titleCase(name), kind]] as Array<[string, number]>));

/** Connection options that name no header. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive']);

export interface RequestHead {
  /** Headers that may go upstream, flat `[name, value, …]` in the client's order and spelling. */
  forward: string[];
  authorization: string | undefined;
  authorizationCount: number;
  /** Every Cookie header joined with `; `. */
  cookie: string | undefined;
  host: string | undefined;
  origin: string | undefined;
  accept: string | undefined;
  contentLength: string | undefined;
  chunked: boolean;
  requestId: string | undefined;
  traceparent: string | undefined;
  tracestate: string | undefined;
  preflightMethod: string | undefined;
  /** From a trusted proxy only (else undefined): its X-Forwarded-For chain, joined. */
  forwardedFor: string | undefined;
  forwardedProto: string | undefined;
  forwardedHost: string | undefined;
}

const join = (current: string | undefined, value: string, separator: string) => (current === undefined ? value : current + separator + value);

/**
 * Reads `rawHeaders` once. `trustedPeer`: the socket peer is one of `gateway.trustedProxies`, so
 * its Forwarded / X-Forwarded-* headers are kept (the gateway appends to them).
 */
export function readRequestHead(rawHeaders: readonly string[], trustedPeer: boolean): RequestHead {
  const head: RequestHead = {
    forward: [],
    authorization: undefined,
    authorizationCount: 0,
    cookie: undefined,
    host: undefined,
    origin: undefined,
    accept: undefined,
    contentLength: undefined,
    chunked: false,
    requestId: undefined,
    traceparent: undefined,
    tracestate: undefined,
    preflightMethod: undefined,
    forwardedFor: undefined,
    forwardedProto: undefined,
    forwardedHost: undefined,
  };
  let connection: string | undefined;
  const forward = head.forward;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    let kind = KINDS.get(name);
    if (kind === undefined) {
      const lower = name.toLowerCase();
      if (lower !== name) kind = KINDS.get(lower);
      if (kind === undefined) {
        // x-gatehouse-* and x-forwarded-* (other than the three read above) never pass
        if (lower.charCodeAt(0) === 120 && lower.charCodeAt(1) === 45 && (lower.startsWith('x-gatehouse-') || lower.startsWith('x-forwarded-'))) continue;
        forward.push(name, value);
        continue;
      }
    }
    switch (kind) {
      case FORWARD: forward.push(name, value); break;
      case DROP: break;
      case AUTHORIZATION: head.authorization = value; head.authorizationCount += 1; break;
      case COOKIE: head.cookie = join(head.cookie, value, '; '); break;
      case HOST: head.host ??= value; break;
      case ORIGIN: head.origin = value; forward.push(name, value); break;
      case ACCEPT: head.accept = join(head.accept, value, ', '); forward.push(name, value); break;
      case CONTENT_LENGTH: head.contentLength = value; break;
      case TRANSFER_ENCODING: head.chunked = true; break;
      case CONNECTION: connection = join(connection, value, ','); break;
      case REQUEST_ID: head.requestId ??= value; break;
      case TRACEPARENT: head.traceparent ??= value; break;
      case TRACESTATE: head.tracestate = join(head.tracestate, value, ','); break;
      case PREFLIGHT_METHOD: head.preflightMethod = value; forward.push(name, value); break;
      case X_FORWARDED_FOR: if (trustedPeer) head.forwardedFor = join(head.forwardedFor, value, ', '); break;
      case X_FORWARDED_PROTO: if (trustedPeer) head.forwardedProto ??= value; break;
      case X_FORWARDED_HOST: if (trustedPeer) head.forwardedHost ??= value; break;
      case FORWARDED: if (trustedPeer) forward.push(name, value); break;
    }
  }
  if (connection !== undefined) dropConnectionNamed(forward, connection);
  return head;
}

/** Removes the headers a `Connection` header names (RFC 9110 §7.6.1) from the forward list. */
function dropConnectionNamed(forward: string[], connection: string): void {
  const named = new Set<string>();
  for (const token of connection.split(',')) {
    const option = token.trim().toLowerCase();
    if (option !== '' && !CONNECTION_OPTIONS.has(option)) named.add(option);
  }
  if (named.size === 0) return;
  let out = 0;
  for (let i = 0; i < forward.length; i += 2) {
    if (named.has(forward[i]!.toLowerCase())) continue;
    forward[out++] = forward[i]!;
    forward[out++] = forward[i + 1]!;
  }
  forward.length = out;
}
