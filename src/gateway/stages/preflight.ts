/**
 * Stage 3 — CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method` for a
 * route that names a CORS policy is answered by the gateway (204, or 403 when the origin or the
 * method is not in the policy). Without a policy the OPTIONS request is routed like any other.
 */
import { GatehouseError } from '../../shared/errors.ts';
import { sendEmpty } from '../respond.ts';
import { ANSWERED, type Exchange, type GatewayState, type Outcome } from '../exchange.ts';

export function preflight(exchange: Exchange, state: GatewayState): Outcome {
  const head = exchange.head!;
  if (exchange.req.method !== 'OPTIONS' || head.origin === undefined || head.preflightMethod === undefined) return undefined;
  const found = state.table.match(head.preflightMethod, exchange.segments);
  if (found.kind !== 'route') return undefined;
  const routeState = state.routes.get(found.route)!;
  const cors = routeState.cors;
  if (cors === undefined) return undefined;
  exchange.route = found.route;
  exchange.routeState = routeState;
  const allowed = cors.allowOrigin(head.origin);
  if (allowed === undefined || !cors.allowsMethod(head.preflightMethod)) {
    exchange.decision = 'cors';
    return new GatehouseError('forbidden', 'The CORS policy of this route does not allow this origin or method');
  }
  exchange.corsOrigin = allowed;
  exchange.decision = 'allow';
  sendEmpty(exchange, state, 204, cors.preflightHeaders);
  return ANSWERED;
}
