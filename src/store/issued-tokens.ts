/**
 * Read side of `issued_tokens` for resource servers inside the Security Service (the admin API):
 * the OAuth component writes and revokes these rows; anyone holding a token's `jti` may ask.
 */
import type { Executor } from './db.ts';

/** True when the JWT access token with this `jti` was recorded and then revoked. One primary-key read. */
export async function isTokenRevoked(db: Executor, jti: string): Promise<boolean> {
  const row = await db.selectFrom('issued_tokens').select('revoked_at').where('jti', '=', jti).executeTakeFirst();
  return row !== undefined && row.revoked_at !== null;
}
