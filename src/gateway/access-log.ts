/**
 * When a request is over: one access-log line (request id, method, path, route, caller `sub`,
 * decision, status, latency, instance — never a token, a cookie or the query) and the metrics.
 * The line goes through pino to its destination (asynchronous for `gatehouse serve gateway`),
 * so logging never waits for the disk.
 */
import type { DenialReason, Exchange, GatewayState } from './exchange.ts';

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
