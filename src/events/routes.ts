/**
 * Routes of the security event stream, for other processes (gateways, services) holding a
 * service credential: a client_credentials access token (no `sid`, `sub` = `client_id`) whose
 * audience is the issuer and whose scope includes `events:read`. A user's token is refused even
 * with that scope: the stream names every user's revocations.
 *
 *   GET  /events/stream   server-sent events, resumable (./sse.ts)
 *   POST /events/poll     RFC 8936 poll-based delivery with per-receiver acks (./poll.ts)
 *
 * Also prunes events older than `events.retention` while the service runs.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/index.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, systemClock, type Clock } from '../shared/clock.ts';
import { requireAccessToken, requireScope, bearerError, type AccessTokenClaims, type AccessTokenVerifier } from '../tokens/index.ts';
import type { StreamingEventBus } from './bus.ts';
import { openEventStream, type StreamRegistry } from './sse.ts';
import { handlePoll } from './poll.ts';
import { deleteEventsBefore } from './event-store.ts';

export const EVENTS_SCOPE = 'events:read';

export interface EventRoutesDeps {
  bus: StreamingEventBus;
  store: Store;
  verifier: AccessTokenVerifier;
  issuer: string;
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** Longest wait of a long poll, ms (default 25 s). */
  longPollMs?: number;
}

const RETENTION_SWEEP_MS = 10 * 60 * 1000;

const requireEventsScope = requireScope(EVENTS_SCOPE);

/** The scope, on a client_credentials token: its subject is the client itself and it has no session. */
export function requireServiceCredential(claims: AccessTokenClaims): void {
  requireEventsScope(claims);
  if (claims.sid !== undefined || claims.sub !== claims.client_id) {
    throw bearerError('insufficient_scope', 'The event stream needs a service credential (a client_credentials token)', `sub ${claims.sub} is not the client ${claims.client_id}`, EVENTS_SCOPE);
  }
}

export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  const { bus, store, config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const streams: StreamRegistry = new Set();
  const waiting = new Set<() => void>();
  const authenticate = requireAccessToken({ verifier: deps.verifier, audience: deps.issuer, check: requireServiceCredential });

  app.get('/events/stream', { preHandler: authenticate }, (request, reply) =>
    openEventStream(request, reply, { feed: bus, logger, clock, heartbeatSeconds: config.events.heartbeat }, streams));
  app.post('/events/poll', { preHandler: authenticate }, (request, reply) =>
    handlePoll(request, reply, { feed: bus, store, logger, clock, longPollMs: deps.longPollMs ?? 25_000, waiting }));

  async function sweep(): Promise<void> {
    try {
      const removed = await deleteEventsBefore(store.db, epochSeconds(clock) - config.events.retention);
      if (removed > 0) logger.info({ removed }, 'expired security events removed');
    } catch (error) {
      logger.warn({ err: error }, 'removing expired security events failed');
    }
  }
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    await sweep();
    sweeper = setInterval(() => void sweep(), RETENTION_SWEEP_MS);
    sweeper.unref();
  });
  // Open streams and long polls would otherwise hold the server open on close.
  app.addHook('preClose', async () => {
    if (sweeper) clearInterval(sweeper);
    for (const stream of [...streams]) stream.end();
    for (const done of [...waiting]) done();
  });
}
