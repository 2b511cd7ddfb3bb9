/**
 * The event bus: signs each event as a SET, appends it to security_events (its seq is the stream
 * position) and delivers it to in-process listeners.
 *
 * A tailer polls the table while anyone listens, so events appended by ANOTHER process (the CLI
 * disabling a user, a second instance) reach this process's listeners and stream subscribers
 * too. It keeps the most recent events in memory: stream connections that are up to date read
 * from there instead of querying the database each.
 */
import { randomUUID } from 'node:crypto';
import { afterCommit, type Store } from '../store/index.ts';
import type { KeyService } from '../tokens/index.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import type { EventBus, EventListener, PublishOptions, PublishedEvent, SecurityEvent } from './types.ts';
import { eventClaims, eventSubject, decodeSet, SET_TYP } from '../shared/security-events.ts';
import { appendEvent, readEvents, lastSeq, type StoredEvent } from './event-store.ts';

/** What the stream endpoints need beyond publish/subscribe. */
export interface EventFeed {
  /** Stored events with seq > after, oldest first, at most `limit`. */
  read(after: number, limit: number): Promise<StoredEvent[]>;
  /** The highest seq stored now. */
  head(): Promise<number>;
  /** `listener` runs whenever new events may be readable. Returns an unsubscribe function. */
  watch(listener: () => void): () => void;
}

export interface StreamingEventBus extends EventBus, EventFeed {}

export interface EventBusDeps {
  store: Store;
  keys: KeyService;
  issuer: string;
  clock: Clock;
  logger: Logger;
  /** Milliseconds between polls of the table for events of other processes. Default 1000. */
  pollInterval?: number;
}

const RECENT_LIMIT = 1000;
const TAIL_BATCH = 500;

export function createEventBus(deps: EventBusDeps): StreamingEventBus {
  const { store, keys, issuer, clock, logger } = deps;
  const pollInterval = deps.pollInterval ?? 1000;
  const listeners = new Set<EventListener>();
  const watchers = new Set<() => void>();
  /** Seqs this process already delivered to its listeners at publish time. */
  const deliveredHere = new Set<number>();
  let recent: StoredEvent[] = [];
  /** The tailer has read every event with seq <= tailHead; `recent` covers (recentFloor, tailHead]. */
  let tailHead = 0;
  let recentFloor = 0;
  let started: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let tickAgain = false;
  let closed = false;

  function deliver(event: PublishedEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        logger.error({ err: error, seq: event.seq }, 'event listener failed');
      }
    }
  }

  async function tick(): Promise<void> {
    await started;
    for (;;) {
      const rows = await readEvents(store.db, tailHead, TAIL_BATCH);
      if (rows.length === 0) return;
      for (const row of rows) {
        recent.push(row);
        if (deliveredHere.delete(row.seq)) continue;
        const published = decodeSet(row.set, row.seq);
        if (published) deliver(published);
      }
      tailHead = rows[rows.length - 1]!.seq;
      for (const seq of deliveredHere) if (seq <= tailHead) deliveredHere.delete(seq);
      if (recent.length > RECENT_LIMIT) {
        const dropped = recent.splice(0, recent.length - RECENT_LIMIT);
        recentFloor = dropped[dropped.length - 1]!.seq;
      }
      for (const watcher of watchers) watcher();
      if (rows.length < TAIL_BATCH) return;
    }
  }

  /**
   * Runs a tick; a wake during a tick runs one more after it (the running one may have read
   * before the new row committed). Errors are logged and retried at the next poll.
   */
  function wake(): void {
    if (closed || !started) return;
    if (ticking) {
      tickAgain = true;
      return;
    }
    ticking = (async () => {
      do {
        tickAgain = false;
        await tick();
      } while (tickAgain && !closed);
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'reading the security event table failed'))
      .finally(() => { ticking = undefined; });
  }

  function ensureTailing(): void {
    if (started || closed) return;
    started = lastSeq(store.db).then(
      (seq) => { tailHead = seq; recentFloor = seq; },
      (error: unknown) => { logger.warn({ err: error }, 'reading the security event table failed'); },
    );
    timer = setInterval(wake, pollInterval);
    timer.unref();
  }

  function stopTailingIfIdle(): void {
    if (listeners.size > 0 || watchers.size > 0 || !timer) return;
    clearInterval(timer);
    timer = undefined;
    started = undefined;
    recent = [];
    deliveredHere.clear();
  }

  return {
    async publish(event: SecurityEvent, options: PublishOptions = {}): Promise<PublishedEvent> {
      const { trx } = options;
      const issuedAt = epochSeconds(clock);
      const jti = randomUUID();
      const set = await keys.sign({ iss: issuer, iat: issuedAt, jti, ...eventClaims(event, issuer, issuedAt) }, { typ: SET_TYP }, trx);
      const seq = await appendEvent(store, { jti, type: event.type, subject: eventSubject(event), set, createdAt: issuedAt }, trx);
      const published: PublishedEvent = { seq, id: jti, event, set, issuedAt };
      const announce = () => {
        if (listeners.size > 0) {
          if (started) deliveredHere.add(seq);
          deliver(published);
        }
        wake();
      };
      // In the caller's transaction: nobody hears of the event unless it commits.
      if (trx) afterCommit(trx, announce);
      else announce();
      return published;
    },
    subscribe(listener) {
      listeners.add(listener);
      ensureTailing();
      return () => {
        listeners.delete(listener);
        stopTailingIfIdle();
      };
    },

    watch(listener) {
      watchers.add(listener);
      ensureTailing();
      return () => {
        watchers.delete(listener);
        stopTailingIfIdle();
      };
    },

    async read(after, limit) {
      await started;
      // Up-to-date readers are served from memory; anyone further behind reads the table.
      if (started && after >= recentFloor && after <= tailHead) {
        const start = recent.findIndex((row) => row.seq > after);
        return start === -1 ? [] : recent.slice(start, start + limit);
      }
      return readEvents(store.db, after, limit);
    },

    head: () => lastSeq(store.db),

    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      listeners.clear();
      watchers.clear();
      await ticking;
    },
  };
}
