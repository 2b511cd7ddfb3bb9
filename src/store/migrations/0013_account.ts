import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * `issued_tokens.issued_at`: when each recorded access token was issued, so the account page can
 * say when a sign-in session was last active (the gateway refreshes its token while it is used).
 * Rows recorded before stay null ("unknown").
 */
export function account(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('issued_tokens').addColumn('issued_at', 'bigint').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
