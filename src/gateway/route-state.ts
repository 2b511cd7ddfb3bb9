/**
 * What each route needs at request time, resolved once per route table: its upstream, timeout,
 * CORS policy, rate limiters and metric children. A reload keeps the counters of a route whose
 * rule and limit did not change, so editing one route does not reset everyone's limits.
 */
import type { CompiledRoute, RouteTable } from './routes/index.ts';
import type { CorsPolicy } from './cors.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Upstreams } from './upstreams.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';
import type { SharedRateLimits } from './shared-rate-limits.ts';
import type { RouteState } from './exchange.ts';

export interface RouteStateDeps {
  upstreams: Upstreams;
  cors: ReadonlyMap<string, CorsPolicy>;
  metrics: GatewayMetrics;
  /** Seconds (gateway.upstream.timeout). */
  defaultTimeout: number;
  hsts: boolean;
  /** Counts in Redis, shared by every replica (`gateway.redis`); unset: each replica counts alone. */
  sharedRateLimits: SharedRateLimits | undefined;
}

/** The route's name in metrics and the access log: `GET,HEAD /api/books/:id`. */
export function routeLabel(route: CompiledRoute): string {
  return `${route.anyMethod ? '*' : route.methods.join(',')} ${route.pattern}`;
}

export function buildRouteStates(table: RouteTable, deps: RouteStateDeps, previous?: ReadonlyMap<CompiledRoute, RouteState>): Map<CompiledRoute, RouteState> {
  const limiters = new Map<string, { caller: RateLimiter | undefined; address: RateLimiter | undefined }>();
  for (const state of previous?.values() ?? []) {
    const limit = state.route.rateLimit;
    if (limit !== undefined) limiters.set(`${routeLabel(state.route)} ${limit.requests}/${limit.per}`, { caller: state.limitCaller, address: state.limitAddress });
  }
  const states = new Map<CompiledRoute, RouteState>();
  for (const route of table.routes) {
    const upstream = deps.upstreams.get(route.service);
    // compileRoutes refuses unknown services and CORS policies; reaching this is a bug.
    if (upstream === undefined) throw new TypeError(`route ${route.source} names unknown service ${route.service}`);
    const cors = route.cors === undefined ? undefined : deps.cors.get(route.cors);
    if (route.cors !== undefined && cors === undefined) throw new TypeError(`route ${route.source} names unknown CORS policy ${route.cors}`);
    const limit = route.rateLimit;
    const kept = limit === undefined ? undefined : limiters.get(`${routeLabel(route)} ${limit.requests}/${limit.per}`);
    const label = routeLabel(route);
    const limiter = (kind: 'caller' | 'address') => (deps.sharedRateLimits === undefined ? createRateLimiter(limit!) : deps.sharedRateLimits.limiter(limit!, label, kind));
    states.set(route, {
      route,
      label,
      labelJson: JSON.stringify(label),
      upstream,
      timeoutMs: (route.timeout ?? deps.defaultTimeout) * 1000,
      cors,
      limitCaller: limit === undefined ? undefined : kept?.caller ?? limiter('caller'),
      limitAddress: limit === undefined ? undefined : kept?.address ?? limiter('address'),
      metrics: deps.metrics.route(label),
      hsts: deps.hsts,
    });
  }
  return states;
}
