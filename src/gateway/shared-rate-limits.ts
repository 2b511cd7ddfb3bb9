/**
 * Rate-limit counters shared by every gateway replica, in Redis (`gateway.redis`): N replicas
 * behind a load balancer then allow a route's limit once, not N times. The windows are those of
 * ./rate-limiter.ts (fixed, started by a key's first request) but timed by Redis's clock, so
 * replicas whose clocks disagree still share one window: a Lua script counts the request and
 * answers the window's remaining time in one round trip.
 *
 * Redis down or slow never stops a request. A count that fails, or gets no answer within
 * `timeoutMs`, is made by the replica's own in-memory limiter instead, so the limit still holds
 * per replica (as without Redis); `gatehouse_gateway_rate_limit_fallbacks_total` counts those and
 * a warning is logged at most once a minute. Deny-by-default does not mean "refuse everyone when
 * the counter store is away": the limit is a brake on abuse, never the authorization.
 *
 * Keys hold no caller or address in clear: `<keyPrefix><route>:<kind>:<SHA-256 of sub or address
 * bucket>`, where `<route>` digests the route's methods, pattern and limit — an unchanged rule
 * keeps its counts across reloads and replicas, a changed limit starts afresh.
 */
import { createHash } from 'node:crypto';
import { createClient, defineScript, TimeoutError, TimeoutReadError, type CommandParser } from '@redis/client';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../shared/logger.ts';
import { createRateLimiter, type RateLimiter, type RateLimiterOptions } from './rate-limiter.ts';

export interface SharedRateLimitOptions {
  /** redis:// or rediss:// URL (it may hold a password: never logged). */
  url: string;
  keyPrefix: string;
  /** Longest wait for Redis's answer before counting in this replica. */
  timeoutMs: number;
  logger: Logger;
  registry: Registry;
}

export interface SharedRateLimits {
  /** A limiter for one route and key kind whose counts live in Redis; `route` names the rule. */
  limiter(limit: RateLimiterOptions, route: string, kind: 'caller' | 'address'): RateLimiter;
  close(): Promise<void>;
}

type FallbackReason = 'disconnected' | 'timeout' | 'error';

/**
 * KEYS[1] the counter, ARGV[1] the window in ms → { count including this request, ms left }.
 * A counter without an expiry (only possible if someone wrote the key by hand) gets one.
 */
const COUNT_REQUEST = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return { count, left }`,
  parseCommand(parser: CommandParser, key: string, windowMs: string) {
    parser.pushKey(key);
    parser.push(windowMs);
  },
  transformReply: (reply: unknown) => ({ count: (reply as number[])[0]!, msLeft: (reply as number[])[1]! }),
});

const digest = (text: string, length: number) => createHash('sha256').update(text).digest('base64url').slice(0, length);

/** Where the Redis is, for logs: the URL without its credentials. */
function redisLocation(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}

const WARN_EVERY_MS = 60_000;

export function createSharedRateLimits(options: SharedRateLimitOptions): SharedRateLimits {
  const { logger, timeoutMs } = options;
  const location = redisLocation(options.url);
  const client = createClient({
    url: options.url,
    scripts: { countRequest: COUNT_REQUEST },
    // Fail at once while disconnected (the replica counts instead) rather than queue for later.
    disableOfflineQueue: true,
    commandOptions: { timeout: timeoutMs, rejectInFlight: true },
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  });
  const fallbacks = new Counter({
    name: 'gatehouse_gateway_rate_limit_fallbacks_total',
    help: 'Rate-limit counts made in this replica because the shared counters in Redis did not answer (disconnected, timeout, error)',
    labelNames: ['reason'],
    registers: [options.registry],
  });
  let warnedAt = -Infinity;
  const fellBack = (reason: FallbackReason, error?: unknown) => {
    fallbacks.labels(reason).inc();
    const now = Date.now();
    if (now - warnedAt < WARN_EVERY_MS) return;
    warnedAt = now;
    logger.warn({ redis: location, reason, detail: (error as Error | undefined)?.message }, 'shared rate-limit counters unavailable: counting in this replica until Redis answers');
  };
  let connected = false;
  client.on('ready', () => {
    connected = true;
    logger.info({ redis: location }, 'shared rate-limit counters connected');
  });
  client.on('end', () => { connected = false; });
  client.on('error', (error: Error) => {
    if (connected) logger.warn({ redis: location, detail: error.message }, 'shared rate-limit counters: connection lost, reconnecting');
    connected = false;
  });
  // Connects in the background: the gateway serves (counting per replica) until Redis answers.
  client.connect().catch(() => {});

  return {
    limiter(limit, route, kind) {
      const local = createRateLimiter(limit);
      const prefix = `${options.keyPrefix}${digest(`${route} ${limit.requests}/${limit.per}`, 16)}:${kind}:`;
      const windowMs = String(limit.per * 1000);
      return {
        requests: local.requests,
        windowMs: local.windowMs,
        get size() {
          return local.size;
        },
        take(key) {
          if (!client.isReady) {
            fellBack('disconnected');
            return local.take(key);
          }
          return client.countRequest(prefix + digest(key, 43), windowMs).then(
            ({ count, msLeft }) => (count <= limit.requests ? 0 : Math.max(1, Math.ceil(msLeft / 1000))),
            (error: unknown) => {
              fellBack(error instanceof TimeoutReadError || error instanceof TimeoutError ? 'timeout' : 'error', error);
              return local.take(key);
            },
          );
        },
      };
    },
    // destroy, not a graceful close: that would wait for the answers of a Redis that may be hanging,
    // and a count in flight is worth nothing once the gateway stops.
    async close() {
      client.destroy();
    },
  };
}
