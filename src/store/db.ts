/**
 * The store: one Kysely instance over SQLite (node:sqlite, the embedded default) or PostgreSQL
 * (pg). Components get narrow repositories (./repositories/*) that take a `Executor`, so writes
 * that belong together run inside one `store.transaction()`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite-driver.ts';
import { migrations } from './migrations/index.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Executor = Kysely<Database> | Transaction<Database>;
/** A transaction opened by `store.transaction()`. */
export type StoreTransaction = Transaction<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Human-readable location (never includes a password). */
  readonly location: string;
  /**
   * Runs `work` in one transaction: all of it lands, or none. Hooks registered with
   * `afterCommit(trx, …)` run once it has committed (never after a rollback).
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Cheap liveness probe of the database (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… or undefined for SQLite. */
  url?: string | undefined;
  dataDir: string;
  poolSize?: number;
}

// int8 (bigint) columns hold epoch seconds and sequence numbers: numbers, not strings.
pg.types.setTypeParser(20, (value) => Number(value));

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** Hooks of the transactions `store.transaction()` has open, keyed by their Transaction object. */
const commitHooks = new WeakMap<Transaction<Database>, Array<() => void>>();

/**
 * Runs `hook` after `trx` (opened by `store.transaction()`) commits; a rollback drops it. Hooks run
 * synchronously in registration order and must not throw (catch and log inside).
 */
export function afterCommit(trx: Transaction<Database>, hook: () => void): void {
  const hooks = commitHooks.get(trx);
  if (!hooks) throw new TypeError('afterCommit needs a transaction opened by store.transaction()');
  hooks.push(hook);
}

/** See openStore: reported through the failing query, not here. */
function ignoreConnectionError(): void {}

export function openStore(options: StoreOptions): Store {
  const dialect: Dialect = options.url ? 'postgres' : 'sqlite';
  let db: Kysely<Database>;
  let location: string;
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
    // A pg client whose connection dies emits 'error'; with no listener that kills the process.
    // The pool listens only while a client is idle, so every client gets its own listener for
    // its whole life (checked out by Kysely, inside a transaction, idle). The failure itself
    // reaches the caller through the query that fails (store_unavailable); a broken client is
    // not queryable any more and the pool drops it on release.
    pool.on('error', ignoreConnectionError);
    pool.on('connect', (client) => client.on('error', ignoreConnectionError));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    location = redactUrl(options.url);
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    // openSqlite creates the database 0600 (and so its -wal/-shm files).
    const file = join(options.dataDir, 'gatehouse.db');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(file) }) });
    location = file;
  }
  return {
    db,
    dialect,
    location,
    async transaction(work) {
      const hooks: Array<() => void> = [];
      const result = await db.transaction().execute((trx) => {
        commitHooks.set(trx, hooks);
        return work(trx);
      });
      for (const hook of hooks) hook();
      return result;
    },
    async migrate() {
      const run = async (on: Kysely<Database>) => {
        const { error, results } = await new Migrator({ db: on, provider: migrations(dialect) }).migrateToLatest();
        if (error) throw error;
        return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      };
      if (dialect === 'postgres') return run(db); // Kysely holds an advisory lock meanwhile
      // On SQLite Kysely takes no lock: two processes starting on a fresh data dir would both
      // apply the same migration. One write transaction around the whole run serializes them
      // (the second waits, busy_timeout, then finds nothing pending).
      return db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const applied = await run(connection);
          await sql`commit`.execute(connection);
          return applied;
        } catch (error) {
          await sql`rollback`.execute(connection).catch(() => {});
          throw error;
        }
      });
    },
    async ping() {
      await db.selectFrom('users').select((eb) => eb.lit(1).as('one')).limit(1).execute();
    },
    close: () => db.destroy(),
  };
}

// How database failures are classified lives in shared (the HTTP shell maps them to 503 too).
export { isStoreUnavailable, storeUnavailable, isUniqueViolation, STORE_RETRY_AFTER_SECONDS } from '../shared/database-errors.ts';
