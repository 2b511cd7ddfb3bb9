/**
 * Rate-limit counters shared by every gateway replica, in Redis (`gateway.redis`): N replicas
 * behind a load balancer then allow a route's limit once, not N times. The windows are those of
 * ./rate-limiter.ts (fixed, started by a key's first request) but timed by Redis's clock, so
 * replicas whose clocks disagree still share one window: a Lua script (./redis.ts) counts the
 * request and answers the window's remaining time in one round trip.
 *
 * Redis down or slow never stops a request. A count that fails, or gets no answer within
 * `gateway.redis.timeoutMs`, is made by the replica's own in-memory limiter instead, so the limit
 * still holds per replica (as without Redis); `gatehouse_gateway_rate_limit_fallbacks_total`
 * counts those and a warning is logged at most once a minute. The limit is a brake on abuse,
 * never the authorization: refusing everyone while the counter store is away would be an outage.
 *
 * Keys hold no caller or address in clear: `<keyPrefix>rate:<route>:<kind>:<SHA-256 of sub or
 * address bucket>`, where `<route>` digests the route's methods, pattern and limit — an unchanged
 * rule keeps its counts across reloads and replicas, a changed limit starts afresh.
 */
import { Counter, type Registry } from 'prom-client';
import { sha256Hex } from '../shared/random.ts';
import type { GatewayRedis } from './redis.ts';
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';

export interface SharedRateLimits {
  /** A limiter for one route and key kind whose counts live in Redis; `route` names the rule. */
  limiter(limit: RateLimiterOptions, route: string, kind: 'caller' | 'address'): RateLimiter;
}

type FallbackReason = 'disconnected' | 'timeout' | 'error';

export function createSharedRateLimits(redis: GatewayRedis, registry: Registry): SharedRateLimits {
  const { client } = redis;
  const fallbacks = new Counter({
    name: 'gatehouse_gateway_rate_limit_fallbacks_total',
    help: 'Rate-limit counts made in this replica because the shared counters in Redis did not answer (disconnected, timeout, error)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const warn = redis.warningWhenWithout('shared rate-limit counters unavailable: counting in this replica until Redis answers');
  const fellBack = (reason: FallbackReason, error?: unknown) => {
    fallbacks.labels(reason).inc();
    warn(error, { reason });
  };

  return {
    limiter(limit, route, kind) {
      const local = createRateLimiter(limit);
      const prefix = `${redis.keyPrefix}rate:${sha256Hex(`${route} ${limit.requests}/${limit.per}`).slice(0, 16)}:${kind}:`;
      const windowMs = String(limit.per * 1000);
      return {
        take(key) {
          if (!client.isReady) {
            fellBack('disconnected');
            return local.take(key);
          }
          return client.countRequest(prefix + sha256Hex(key), windowMs).then(
            ({ count, msLeft }) => (count <= limit.requests ? 0 : Math.max(1, Math.ceil(msLeft / 1000))),
            (error: unknown) => {
              fellBack(redis.isTimeout(error) ? 'timeout' : 'error', error);
              return local.take(key);
            },
          );
        },
      };
    },
  };
}
