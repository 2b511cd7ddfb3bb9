/**
 * Adapts `node:sqlite` to the database interface Kysely's SqliteDialect expects
 * (the better-sqlite3 shape: prepare → { reader, all, iterate, run }, close).
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { boundedMemo } from '../shared/bounded-memo.ts';

function bindable(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string' || value instanceof Uint8Array) {
    return value;
  }
  return JSON.stringify(value);
}

function wrap(statement: StatementSync): SqliteStatement {
  const reader = statement.columns().length > 0;
  return {
    reader,
    all: (parameters: ReadonlyArray<unknown>) => statement.all(...parameters.map(bindable)) as unknown[],
    iterate: (parameters: ReadonlyArray<unknown>) => statement.iterate(...parameters.map(bindable)) as IterableIterator<unknown>,
    run: (parameters: ReadonlyArray<unknown>) => {
      const result = statement.run(...parameters.map(bindable));
      return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
    },
  };
}

const NO_OP: SqliteStatement = { reader: false, all: () => [], iterate: () => [][Symbol.iterator](), run: () => ({ changes: 0, lastInsertRowid: 0 }) };

/** Prepared statements are kept by SQL text: Kysely prepares on every execution, and compiling
 * the same SQL again costs more than running it. Bounded, oldest evicted first. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * The database holds password hashes, sessions and refresh tokens: mode 0600. The file is created
 * 0600 before SQLite opens it, and SQLite creates its -wal and -shm files with the database
 * file's mode; files left 0644 by an older version are restricted here.
 */
function restrictFiles(path: string): void {
  if (process.platform === 'win32' || path === ':memory:' || path.startsWith('file:')) return;
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}

export function openSqlite(path: string): SqliteDatabase & { raw: DatabaseSync } {
  restrictFiles(path);
  const raw = new DatabaseSync(path);
  const statements = boundedMemo<string, SqliteStatement>(STATEMENT_CACHE_SIZE);
  const prepare = (text: string): SqliteStatement => {
    // Kysely opens transactions with a plain (deferred) `begin`: two processes that both read
    // and then write (two starts on a fresh data dir, the CLI beside the service) get SQLITE_BUSY
    // at once when one upgrades a read snapshot the other has outdated — busy_timeout cannot
    // help. `begin immediate` takes the write lock first and waits for it (busy_timeout).
    const sql = text === 'begin' ? 'begin immediate' : text;
    // After some failures (SQLITE_IOERR, SQLITE_FULL …) SQLite has already rolled the transaction
    // back itself; Kysely's ROLLBACK would then fail with "no transaction is active" and hide the
    // failure that matters (a store outage) behind a meaningless one.
    if (/^\s*rollback\s*;?\s*$/i.test(sql) && !raw.isTransaction) return NO_OP;
    return statements.get(sql, () => wrap(raw.prepare(sql)));
  };
  // busy_timeout first: switching a fresh database to WAL needs a lock another process starting
  // at the same moment may hold, and without a busy handler that fails at once ("database is
  // locked"). WAL then lets the CLI work while the server runs.
  raw.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;');
  return {
    raw,
    prepare,
    close: () => {
      statements.clear();
      raw.close();
    },
  };
}
