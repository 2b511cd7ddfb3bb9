/**
 * `GET /events/stream`: the security event stream as server-sent events. Each event is
 * `id: <seq>`, `event: <type>`, `data: <SET>`; a client resumes with `Last-Event-ID` (or
 * `?after=<seq>`). Without a position the stream starts at the current end. The connection is
 * closed when the caller's access token expires, so a revoked service credential cannot listen on.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.ts';
import type { Clock } from '../shared/clock.ts';
import { GatehouseError } from '../shared/errors.ts';
import type { EventFeed } from './bus.ts';
import type { StoredEvent } from './event-store.ts';

const READ_BATCH = 200;
/** A subscriber this far behind in unsent bytes is dropped; it resumes from its last id. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface SseDeps {
  feed: EventFeed;
  logger: Logger;
  clock: Clock;
  heartbeatSeconds: number;
}

/** The open streams, so the service can end them all when it closes. */
export type StreamRegistry = Set<{ end(): void }>;

/** `Last-Event-ID` wins over `?after=`; both must be a non-negative integer. */
export function streamPosition(request: FastifyRequest): number | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.after;
  const value = typeof header === 'string' && header !== '' ? header : typeof query === 'string' ? query : undefined;
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new GatehouseError('invalid_request', 'Last-Event-ID and after must be a stream position (a non-negative integer)');
  return Number(value);
}

export function formatEvent(event: StoredEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${event.set}\n\n`;
}

export async function openEventStream(request: FastifyRequest, reply: FastifyReply, deps: SseDeps, registry: StreamRegistry): Promise<FastifyReply> {
  const { feed, logger, clock } = deps;
  let cursor = streamPosition(request) ?? (await feed.head());
  const expiresAt = request.accessToken?.exp;

  reply.hijack();
  const res: ServerResponse = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  res.write(': gatehouse security events\n\n');

  let closed = false;
  let pumping = false;
  let pumpAgain = false;

  /** Writes every event after `cursor`; runs one at a time, re-running if woken meanwhile. */
  async function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        for (;;) {
          const events = await feed.read(cursor, READ_BATCH);
          if (closed) return;
          for (const event of events) {
            res.write(formatEvent(event));
            cursor = event.seq;
          }
          if (res.writableLength > MAX_BUFFERED_BYTES) {
            logger.warn({ cursor }, 'event stream subscriber too slow; disconnecting it');
            end();
            return;
          }
          if (events.length < READ_BATCH) break;
        }
      } while (pumpAgain && !closed);
    } catch (error) {
      logger.warn({ err: error }, 'event stream read failed; closing the stream');
      end();
    } finally {
      pumping = false;
    }
  }

  const unwatch = feed.watch(() => { void pump(); });
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.heartbeatSeconds * 1000);
  const expiry = expiresAt === undefined ? undefined : setTimeout(end, Math.min(2 ** 31 - 1, Math.max(0, expiresAt * 1000 - clock.now())));
  const handle = { end };
  registry.add(handle);

  function end(): void {
    if (closed) return;
    closed = true;
    unwatch();
    clearInterval(heartbeat);
    if (expiry) clearTimeout(expiry);
    registry.delete(handle);
    res.end();
  }
  res.on('close', end);
  void pump();
  return reply;
}
