/**
 * Stages 6 and 9 — rateLimit: per client address (IPv4, or the IPv6 /64) before the token is
 * verified, so a flood of bad tokens costs no signature checks; per caller (`sub`) after. Past
 * the limit: 429 with Retry-After. The counts are the replica's own, or shared by every replica
 * through Redis (`gateway.redis`, ../shared-rate-limits.ts): then the answer takes a round trip.
 */
import { GatehouseError } from '../../shared/errors.ts';
import { addressBucket } from '../../shared/client-address.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

function decide(exchange: Exchange, wait: number, who: 'address' | 'caller'): Outcome {
  if (wait === 0) return undefined;
  exchange.decision = who === 'address' ? 'rate_limit_address' : 'rate_limit_caller';
  return new GatehouseError('too_many_requests', `Rate limit of this route reached for this ${who}; retry after ${wait} s`, { headers: { 'retry-after': String(wait) } });
}

function limit(exchange: Exchange, wait: number | Promise<number>, who: 'address' | 'caller'): Outcome | Promise<Outcome> {
  return typeof wait === 'number' ? decide(exchange, wait, who) : wait.then((seconds) => decide(exchange, seconds, who));
}

export function limitAddress(exchange: Exchange, _state: GatewayState): Outcome | Promise<Outcome> {
  const limiter = exchange.routeState!.limitAddress;
  if (limiter === undefined) return undefined;
  return limit(exchange, limiter.take(addressBucket(exchange.client)), 'address');
}

export function limitCaller(exchange: Exchange, _state: GatewayState): Outcome | Promise<Outcome> {
  const limiter = exchange.routeState!.limitCaller;
  const caller = exchange.caller;
  if (limiter === undefined || caller === undefined) return undefined;
  return limit(exchange, limiter.take(caller.subject), 'caller');
}
