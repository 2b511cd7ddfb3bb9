/**
 * Classifying database failures (pg and node:sqlite alike): an outage becomes the public
 * `store_unavailable` (503, Retry-After) wherever it surfaces; a unique violation is a conflict.
 */
import { GatehouseError } from './errors.ts';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300',
]);

/**
 * SQLite primary result codes (`errcode & 0xff` of node:sqlite's ERR_SQLITE_ERROR) that mean the
 * database cannot be used right now — nothing about the request: BUSY (busy timeout), LOCKED,
 * READONLY, IOERR (a failing or read-only disk), FULL, CANTOPEN, PROTOCOL.
 */
const SQLITE_UNAVAILABLE = new Set([5, 6, 8, 10, 13, 14, 15]);

function sqliteResultCode(error: Error): number | undefined {
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  return code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number' ? errcode & 0xff : undefined;
}

/** True when `error` means the database could not be reached or is overloaded. */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // An error raised while rolling back after a failure carries the failure as its cause.
  if (error.cause !== undefined && error.cause !== error && isStoreUnavailable(error.cause)) return true;
  const sqlite = sqliteResultCode(error);
  if (sqlite !== undefined) return SQLITE_UNAVAILABLE.has(sqlite);
  const code = (error as { code?: string }).code;
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  const message = error.message;
  // Messages only where no code exists: a closed handle (Kysely's destroyed driver, node:sqlite's
  // ERR_INVALID_STATE "database is not open"), pg's client-side failures, and PostgreSQL's 55000
  // "is not currently accepting connections" (a database closed to connections; the code alone is too broad).
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|driver has already been destroyed|database is not open|is not currently accepting connections/i.test(message);
}

/** Seconds a client is asked to wait after a database outage (`Retry-After`). */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** Translates a failure of the database into the public `store_unavailable` error (503, with Retry-After). */
export function storeUnavailable(error: unknown): GatehouseError {
  return new GatehouseError('store_unavailable', undefined, {
    cause: error,
    detail: error instanceof Error ? error.message : String(error),
    headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
  });
}

/** True for a unique-constraint violation on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  return code === '23505' || /UNIQUE constraint failed/i.test(error.message);
}
