/**
 * Classifying database failures (pg and node:sqlite alike): an outage becomes the public
 * `store_unavailable` (503, Retry-After) wherever it surfaces; a unique violation is a conflict.
 */
import { GatehouseError } from './errors.ts';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300',
]);

/** True when `error` means the database could not be reached or is overloaded. */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  const message = error.message;
  // "is not currently accepting connections": PostgreSQL's 55000 for a database closed to
  // connections (maintenance, failover); the code alone is too broad to match on.
  return /database is locked|SQLITE_BUSY|Connection terminated|not queryable|timeout exceeded when trying to connect|driver has already been destroyed|database is not open|is not currently accepting connections/i.test(message);
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
