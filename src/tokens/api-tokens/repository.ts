/**
 * The `api_tokens` table. Rows hold the digest, never the token. Every function takes an
 * `Executor` (the db or the caller's transaction).
 */
import type { ApiTokenRow, Executor } from '../../store/index.ts';
import type { ApiTokenSummary } from './types.ts';

export function summaryOf(row: ApiTokenRow): ApiTokenSummary {
  return {
    id: row.id,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    ...(row.last_used_at !== null ? { lastUsedAt: Number(row.last_used_at) } : {}),
    ...(row.last_used_address !== null ? { lastUsedAddress: row.last_used_address } : {}),
  };
}

export async function insertToken(db: Executor, row: ApiTokenRow): Promise<void> {
  await db.insertInto('api_tokens').values(row).execute();
}

/** The user's tokens that are neither revoked nor expired, oldest first. */
export async function liveTokensOf(db: Executor, userId: string, now: number): Promise<ApiTokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export async function findByDigest(db: Executor, digest: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('digest', '=', digest).executeTakeFirst();
}

export async function findById(db: Executor, id: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Marks the token revoked unless it already was; true when this call revoked it. */
export async function markTokenRevoked(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Records a use; false when the token was revoked meanwhile. On PostgreSQL the UPDATE waits for a
 * concurrent revocation's row lock and then sees its result, which closes the race between an
 * exchange and a revocation (see the token-exchange grant).
 */
export async function markTokenUsed(db: Executor, id: string, now: number, address: string | null): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ last_used_at: now, last_used_address: address })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Retires the user's expired, unrevoked tokens named `name` (revoked_at = when they expired), so
 * the name is free again under the unique index (user_id, name) over unrevoked tokens. Nothing
 * else changes for them: an expired token is refused as expired either way.
 */
export async function retireExpiredNamed(db: Executor, userId: string, name: string, now: number): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set((eb) => ({ revoked_at: eb.ref('expires_at') }))
    .where('user_id', '=', userId)
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .where('expires_at', '<=', now)
    .execute();
}
