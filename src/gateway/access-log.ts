/**
 * When a request is over: one access-log line (request id, method, path, route, caller `sub`,
 * decision, status, latency, instance — never a token, a cookie or the query) and the metrics.
 * The line goes through pino to its destination (asynchronous for `gatehouse serve gateway`),
 * so logging never waits for the disk.
 */
import type { Logger } from '../shared/logger.ts';
import type { DenialReason, Exchange, GatewayState } from './exchange.ts';

/**
 * The access log's logger: the gateway logger's level and destination, without its redaction.
 * Redaction works by field name (src/shared/logger.ts) and the access log's fields are a fixed
 * set that names none of the redacted paths, every value a string or number the gateway made or
 * validated itself (request id, method, normalized path, route label, verified `sub`, address,
 * decision, status, latency, configured upstream origin): there is nothing it could replace, and
 * it cost ~17 µs per line, more than the rest of the request's work at the gateway.
 */
export function accessLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

const DENIALS: ReadonlySet<string> = new Set<DenialReason>([
  'malformed', 'not_found', 'method_not_allowed', 'cors', 'address', 'rate_limit_address', 'rate_limit_caller',
  'body_too_large', 'no_token', 'invalid_token', 'cross_origin', 'missing_role', 'missing_scope', 'not_granted', 'not_owner', 'not_ready',
]);

/** nginx's "client closed the connection before the answer". */
const CLIENT_CLOSED = 499;

export function logAccess(exchange: Exchange, state: GatewayState): void {
  const { res } = exchange;
  const status = res.headersSent ? res.statusCode : CLIENT_CLOSED;
  const seconds = (performance.now() - exchange.startedAt) / 1000;
  const route = exchange.routeState;
  const metrics = route !== undefined ? route.metrics : state.owned.has(exchange.path) ? state.metrics.owned : state.metrics.unmatched;
  metrics.observe(status, seconds);
  const decision = exchange.decision;
  if (DENIALS.has(decision)) state.metrics.denied(decision as DenialReason);
  state.accessLog?.info({
    reqId: exchange.requestId,
    method: exchange.req.method,
    path: exchange.path,
    route: route?.label,
    sub: exchange.caller?.subject,
    client: exchange.client,
    decision,
    status,
    ms: Math.round(seconds * 10_000) / 10,
    upstream: exchange.instance,
  }, 'request');
}
