/**
 * When a request is over: one access-log line (request id, method, path, route, caller `sub`,
 * decision, status, latency, instance — never a token, a cookie or the query) and the metrics.
 * The line goes to the gateway logger's destination (asynchronous and batched for `gatehouse
 * serve gateway`), so logging never waits for the disk.
 *
 * The line is serialized here rather than by pino (src/shared/logger.ts `infoLineWriter`, same
 * line format): its fields are a fixed set, and pino's general formatting and redaction cost more
 * than the rest of the request's work at the gateway. Nothing in it needs redacting: every value
 * is one the gateway made or checked itself — the request id (generated, or the client's when it
 * matched `[A-Za-z0-9._:@+=-]{1,128}`), the method, the normalized path (the query is never
 * logged), the route's label, the verified `sub`, the client address, the decision, the status,
 * the latency and the configured upstream origin. Strings are JSON-escaped all the same.
 */
import { infoLineWriter, type Logger } from '../shared/logger.ts';
import type { DenialReason, Exchange, GatewayState } from './exchange.ts';

/** Writes one access-log line: JSON members, each with its leading comma. */
export type AccessLog = (fields: string) => void;

export function createAccessLog(logger: Logger): AccessLog {
  return infoLineWriter(logger, 'request');
}

const DENIALS: ReadonlySet<string> = new Set<DenialReason>([
  'malformed', 'not_found', 'method_not_allowed', 'cors', 'address', 'rate_limit_address', 'rate_limit_caller',
  'body_too_large', 'no_token', 'invalid_token', 'cross_origin', 'missing_role', 'missing_scope', 'not_granted', 'not_owner', 'not_ready',
]);

/** nginx's "client closed the connection before the answer". */
const CLIENT_CLOSED = 499;

/** Strings JSON writes as they are: no quote, backslash, control character or lone surrogate. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A JSON string of `value`, quoted as it is when nothing in it needs escaping. */
const jsonString = (value: string): string => (PLAIN.test(value) ? `"${value}"` : JSON.stringify(value));

/** `,"name":"value"`, or nothing when the value is missing (as pino leaves out undefined fields). */
const member = (name: string, value: string | undefined): string => (value === undefined ? '' : `,"${name}":${jsonString(value)}`);

/**
 * Milliseconds with one decimal, as `Math.round(ms * 10) / 10` prints them (`12`, `12.3`), from
 * integers: printing the fraction itself went through V8's double-to-text conversion on every
 * request, which cost more than the rest of the line's numbers (callgrind, BENCHMARKS.md).
 */
export function tenthsOfMs(ms: number): string {
  const tenths = Math.round(ms * 10);
  const rest = tenths % 10;
  return rest === 0 ? `${tenths / 10}` : `${(tenths - rest) / 10}.${rest}`;
}

/**
 * One line per request. Only `sub` (a claim of the token) is escaped here; every other value
 * cannot need it: the request id matched `[A-Za-z0-9._:@+=-]` or was made here, the method
 * passed Node's token check, the path is normalized (ASCII pchars and percent-escapes only:
 * ./request-target.ts refuses or encodes everything else), the client is a canonical IP address,
 * the decision comes from a fixed set, the route's label was JSON-encoded when the routes were
 * loaded, and the upstream is a URL origin.
 */
export function logAccess(exchange: Exchange, state: GatewayState): void {
  const { res } = exchange;
  const status = res.headersSent ? res.statusCode : CLIENT_CLOSED;
  const ms = performance.now() - exchange.startedAt;
  const seconds = ms / 1000;
  const route = exchange.routeState;
  const metrics = route !== undefined ? route.metrics : state.owned.has(exchange.path) ? state.metrics.owned : state.metrics.unmatched;
  metrics.observe(status, seconds);
  const decision = exchange.decision;
  if (DENIALS.has(decision)) state.metrics.denied(decision as DenialReason);
  const { requestId, caller, instance } = exchange;
  state.accessLog?.(
    `${requestId === undefined ? '' : `,"reqId":"${requestId}"`},"method":"${exchange.req.method}","path":"${exchange.path}"`
    + `${route === undefined ? '' : `,"route":${route.labelJson}`}${caller === undefined ? '' : `,"sub":${jsonString(caller.subject)}`}`
    + `,"client":"${exchange.client}","decision":"${decision}","status":${status},"ms":${tenthsOfMs(ms)}`
    + `${instance === undefined ? '' : `,"upstream":"${instance}"`}`,
  );
}

/** A request Node's HTTP parser refused: there is no exchange, only the status and the parser's code. */
export function logMalformed(state: GatewayState, status: number, parserCode: string | undefined): void {
  state.accessLog?.(`,"decision":"malformed","status":${status}${member('parser', parserCode)}`);
}
