/**
 * Stage 4 — match: method + decoded segments → the route and its params. No route → 404; a route
 * for the path but not the method → 405 with `Allow`. There is no implicit catch-all.
 */
import { GatehouseError } from '../../shared/errors.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function match(exchange: Exchange, state: GatewayState): Outcome {
  const found = state.table.match(exchange.req.method!, exchange.segments);
  if (found.kind === 'not_found') {
    exchange.decision = 'not_found';
    return new GatehouseError('not_found', 'No route for this path');
  }
  if (found.kind === 'method_not_allowed') {
    exchange.decision = 'method_not_allowed';
    return new GatehouseError('method_not_allowed', undefined, { headers: { allow: found.allow.join(', ') } });
  }
  const routeState = state.routes.get(found.route)!;
  exchange.route = found.route;
  exchange.routeState = routeState;
  exchange.params = found.params;
  const origin = exchange.head!.origin;
  if (routeState.cors !== undefined && origin !== undefined) exchange.corsOrigin = routeState.cors.allowOrigin(origin);
  return undefined;
}
