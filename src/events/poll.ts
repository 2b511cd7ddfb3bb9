/**
 * `POST /events/poll`: poll-based SET delivery (RFC 8936).
 *
 * Many receivers share one stream, so each has a cursor (event_cursors, keyed by the client_id
 * of its access token): every event after the cursor is pending, and is delivered again until
 * acknowledged. Acknowledgements advance the cursor over the leading run of acknowledged events:
 * acking the first N pending events moves the cursor past them; an event acked out of order,
 * behind an unacked one, is delivered again. `setErrs` count as acknowledgements (logged). A
 * receiver's first poll starts at the beginning of the retained history.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Store } from '../store/index.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { parseInput } from '../shared/validation.ts';
import type { EventFeed } from './bus.ts';
import { cursorOf, readEvents, saveCursor } from './event-store.ts';

const jti = z.string().min(1).max(200);

export const pollRequestSchema = z
  .object({
    ack: z.array(jti).max(1000).default([]),
    setErrs: z.record(jti, z.object({ err: z.string(), description: z.string().optional() })).default({}),
    maxEvents: z.number().int().min(0).max(1000).default(100),
    returnImmediately: z.boolean().default(false),
  })
  .strict();

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

export interface PollDeps {
  feed: EventFeed;
  store: Store;
  logger: Logger;
  clock: Clock;
  /** Longest wait for an event when returnImmediately is false, ms. */
  longPollMs: number;
  /** Long polls register here so closing the service can answer them at once. */
  waiting: Set<() => void>;
}

export async function handlePoll(request: FastifyRequest, reply: FastifyReply, deps: PollDeps): Promise<PollResponse> {
  const body = parseInput(pollRequestSchema, request.body ?? {}, 'The poll request failed validation');
  const subscriber = request.accessToken!.client_id;
  const db = deps.store.db;

  let cursor = (await cursorOf(db, subscriber)) ?? 0;
  const acked = new Set([...body.ack, ...Object.keys(body.setErrs)]);
  if (Object.keys(body.setErrs).length > 0) deps.logger.warn({ subscriber, setErrs: body.setErrs }, 'event receiver reported SET errors');
  if (acked.size > 0) {
    for (const event of await readEvents(db, cursor, acked.size)) {
      if (!acked.has(event.id)) break;
      cursor = event.seq;
    }
  }
  await saveCursor(db, subscriber, cursor, epochSeconds(deps.clock));

  if (body.maxEvents === 0) return { sets: {}, moreAvailable: (await deps.feed.head()) > cursor };
  let events = await deps.feed.read(cursor, body.maxEvents + 1);
  if (events.length === 0 && !body.returnImmediately) {
    await waitForEvents(reply, deps);
    events = await deps.feed.read(cursor, body.maxEvents + 1);
  }
  const delivered = events.slice(0, body.maxEvents);
  return { sets: Object.fromEntries(delivered.map((event) => [event.id, event.set])), moreAvailable: events.length > body.maxEvents };
}

/** Resolves when new events may be readable, the wait times out, the caller leaves or the service closes. */
function waitForEvents(reply: FastifyReply, deps: PollDeps): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unwatch();
      clearTimeout(timer);
      deps.waiting.delete(done);
      reply.raw.off('close', done);
      resolve();
    };
    const unwatch = deps.feed.watch(done);
    const timer = setTimeout(done, deps.longPollMs);
    deps.waiting.add(done);
    // The response closes early only when the caller hung up.
    reply.raw.on('close', done);
  });
}
