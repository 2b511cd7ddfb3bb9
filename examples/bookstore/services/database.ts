/**
 * Each bookstore service keeps its own data in its own SQLite file (node:sqlite) in the data
 * directory — no service reads another's tables; they talk over HTTP.
 */
import { DatabaseSync } from 'node:sqlite';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

export function openServiceDatabase(dataDir: string, service: string): DatabaseSync {
  const path = join(dataDir, `${service}.db`);
  // Created 0600 before SQLite opens it: the data directory holds other services' secrets too.
  closeSync(openSync(path, 'a', 0o600));
  const db = new DatabaseSync(path);
  db.exec('pragma journal_mode = wal; pragma busy_timeout = 5000; pragma foreign_keys = on');
  return db;
}

/** Runs `work` in one transaction: it commits when `work` returns and rolls back when it throws. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('begin immediate');
  try {
    const result = work();
    db.exec('commit');
    return result;
  } catch (error) {
    db.exec('rollback');
    throw error;
  }
}
