/**
 * The security_events table (the stream other processes read) and event_cursors (acknowledged
 * positions of RFC 8936 poll subscribers). `seq` is the stream position.
 */
import { sql } from 'kysely';
import type { Store, Executor } from '../store/index.ts';

/** An event as the stream carries it: the SET plus its position. */
export interface StoredEvent {
  seq: number;
  /** jti of the SET. */
  id: string;
  type: string;
  set: string;
  createdAt: number;
}

export interface NewStoredEvent {
  jti: string;
  type: string;
  subject: string | null;
  set: string;
  createdAt: number;
}

/**
 * Appends an event and returns its seq, in its own transaction or in the caller's `trx`. On PostgreSQL a transaction-scoped advisory lock makes
 * commit order equal seq order, so a reader that remembers "everything up to seq N" never skips
 * an event that committed late with a lower seq. (SQLite has a single writer anyway.)
 */
export async function appendEvent(store: Store, event: NewStoredEvent, trx?: Executor): Promise<number> {
  const append = async (executor: Executor) => {
    // Held until the surrounding transaction ends, which is what orders commits.
    if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('gatehouse.security_events'))`.execute(executor);
    const row = await executor
      .insertInto('security_events')
      .values({ jti: event.jti, event_type: event.type, subject: event.subject, set_jwt: event.set, created_at: event.createdAt })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return Number(row.seq);
  };
  return trx === undefined ? store.transaction(append) : append(trx);
}

export async function readEvents(db: Executor, after: number, limit: number): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('security_events')
    .select(['seq', 'jti', 'event_type', 'set_jwt', 'created_at'])
    .where('seq', '>', after)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ seq: Number(row.seq), id: row.jti, type: row.event_type, set: row.set_jwt, createdAt: Number(row.created_at) }));
}

export async function lastSeq(db: Executor): Promise<number> {
  const row = await db.selectFrom('security_events').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirst();
  return Number(row?.max ?? 0);
}

/** Retention: events older than `before` (epoch s) are dropped. Returns how many. */
export async function deleteEventsBefore(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom('security_events').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function cursorOf(db: Executor, subscriber: string): Promise<number | undefined> {
  const row = await db.selectFrom('event_cursors').select('acked_seq').where('subscriber', '=', subscriber).executeTakeFirst();
  return row === undefined ? undefined : Number(row.acked_seq);
}

export async function saveCursor(db: Executor, subscriber: string, ackedSeq: number, now: number): Promise<void> {
  await db
    .insertInto('event_cursors')
    .values({ subscriber, acked_seq: ackedSeq, updated_at: now })
    .onConflict((oc) => oc.column('subscriber').doUpdateSet({ acked_seq: ackedSeq, updated_at: now }))
    .execute();
}
