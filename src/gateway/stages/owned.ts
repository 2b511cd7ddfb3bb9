/**
 * Stage 2 — gateway-owned paths: /healthz, /readyz, /metrics and, with browser sign-in, /login,
 * /login/callback, /logout. Route rules cannot claim these (the route compiler refuses them).
 */
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function owned(exchange: Exchange, state: GatewayState): Outcome | Promise<Outcome> {
  const handler = state.owned.get(exchange.path);
  return handler === undefined ? undefined : handler(exchange, state);
}
