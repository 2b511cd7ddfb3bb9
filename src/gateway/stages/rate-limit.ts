/**
 * Stages 6 and 9 — rateLimit: per client address (IPv4, or the IPv6 /64) before the token is
 * verified, so a flood of bad tokens costs no signature checks; per caller (`sub`) after. Past
 * the limit: 429 with Retry-After.
 */
import { GatehouseError } from '../../shared/errors.ts';
import { addressBucket } from '../../shared/client-address.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

const tooMany = (wait: number, who: string) =>
  new GatehouseError('too_many_requests', `Rate limit of this route reached for this ${who}; retry after ${wait} s`, { headers: { 'retry-after': String(wait) } });

export function limitAddress(exchange: Exchange, _state: GatewayState): Outcome {
  const limiter = exchange.routeState!.limitAddress;
  if (limiter === undefined) return undefined;
  const wait = limiter.take(addressBucket(exchange.client));
  if (wait === 0) return undefined;
  exchange.decision = 'rate_limit_address';
  return tooMany(wait, 'address');
}

export function limitCaller(exchange: Exchange, _state: GatewayState): Outcome {
  const limiter = exchange.routeState!.limitCaller;
  const caller = exchange.caller;
  if (limiter === undefined || caller === undefined) return undefined;
  const wait = limiter.take(caller.subject);
  if (wait === 0) return undefined;
  exchange.decision = 'rate_limit_caller';
  return tooMany(wait, 'caller');
}
