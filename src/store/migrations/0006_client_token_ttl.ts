import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/** A client's own access-token lifetime in seconds (null: tokens.accessTokenTtl). */
export function clientTokenTtl(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('access_token_ttl', 'bigint').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
