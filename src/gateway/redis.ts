/**
 * The gateway's one connection to Redis (`gateway.redis`), for the state its replicas share: the
 * rate-limit counters (./shared-rate-limits.ts) and browser-session refreshes in flight
 * (./session/shared-refreshes.ts). The gateway never depends on it to answer: commands fail at
 * once while it is disconnected and after `timeoutMs` without an answer, and each user then does
 * what a lone replica would. It connects and reconnects in the background (backing off to 5 s).
 * Loaded only when `gateway.redis` is set (../index.ts imports it on demand): a gateway without
 * Redis never loads the client.
 */
import { createClient, defineScript, TimeoutError, TimeoutReadError, type CommandParser } from '@redis/client';
import type { Logger } from '../shared/logger.ts';

/** KEYS[1] a counter, ARGV[1] its window in ms → { count including this request, ms left in the window }. */
const COUNT_REQUEST = defineScript({
  NUMBER_OF_KEYS: 1,
  // A counter without an expiry (only possible if someone wrote the key by hand) gets one.
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

export interface RedisOptions {
  /** redis:// or rediss:// URL (it may hold a password: never logged). */
  url: string;
  /** Every key the gateway writes starts with it. */
  keyPrefix: string;
  /** Longest wait for an answer. */
  timeoutMs: number;
  logger: Logger;
}

function createGatewayRedisClient(options: RedisOptions) {
  return createClient({
    url: options.url,
    scripts: { countRequest: COUNT_REQUEST },
    // Fail at once while disconnected (the caller does without) rather than queue for later.
    disableOfflineQueue: true,
    commandOptions: { timeout: options.timeoutMs, rejectInFlight: true },
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) },
  });
}

export type GatewayRedisClient = ReturnType<typeof createGatewayRedisClient>;

export interface GatewayRedis {
  readonly client: GatewayRedisClient;
  /** Whether a command failed for want of an answer in time (rather than refused or disconnected). */
  isTimeout(error: unknown): boolean;
  readonly keyPrefix: string;
  /** The URL without its credentials, for logs. */
  readonly location: string;
  /**
   * A warning for a user that did without Redis (`message` says what it did instead), logged at
   * most once a minute: a request that cannot reach Redis is not a line in the log each.
   */
  warningWhenWithout(message: string): (error: unknown, fields?: Record<string, unknown>) => void;
  close(): void;
}

const WARN_EVERY_MS = 60_000;

export function connectRedis(options: RedisOptions): GatewayRedis {
  const { logger } = options;
  const { protocol, host } = new URL(options.url);
  const location = `${protocol}//${host}`;
  const client = createGatewayRedisClient(options);
  let connected = false;
  /** An outage is said once (lost, or never reached), not at every retry; the next 'ready' ends it. */
  let outageSaid = false;
  client.on('ready', () => {
    connected = true;
    outageSaid = false;
    logger.info({ redis: location }, 'gateway redis connected');
  });
  client.on('error', (error: Error) => {
    if (!outageSaid) {
      outageSaid = true;
      logger.warn({ redis: location, detail: error.message }, connected ? 'gateway redis: connection lost, reconnecting' : 'gateway redis: cannot connect, retrying in the background');
    }
    connected = false;
  });
  client.connect().catch(() => {});
  return {
    client,
    isTimeout: (error) => error instanceof TimeoutReadError || error instanceof TimeoutError,
    keyPrefix: options.keyPrefix,
    location,
    warningWhenWithout(message) {
      let warnedAt = -Infinity;
      return (error, fields) => {
        const now = Date.now();
        if (now - warnedAt < WARN_EVERY_MS) return;
        warnedAt = now;
        logger.warn({ redis: location, ...fields, detail: (error as Error | undefined)?.message }, message);
      };
    },
    // destroy, not a graceful close: that would wait for the answers of a Redis that may be hanging,
    // and nothing in flight is worth waiting for once the gateway stops.
    close: () => client.destroy(),
  };
}
