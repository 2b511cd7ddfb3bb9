/**
 * Stage 5 — allowFrom: the route admits only clients from its CIDR blocks (the client address
 * after `gateway.trustedProxies`, never an X-Forwarded-For entry an untrusted client wrote).
 */
import { GatehouseError } from '../../shared/errors.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function allowFrom(exchange: Exchange, _state: GatewayState): Outcome {
  const list = exchange.route!.allowFrom;
  if (list === undefined || list.matches(exchange.client)) return undefined;
  exchange.decision = 'address';
  return new GatehouseError('forbidden', 'This route is not available from your network address');
}
