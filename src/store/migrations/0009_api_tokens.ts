import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Personal API tokens (src/tokens/api-tokens): stored only as the SHA-256 digest of the token,
 * looked up by it (unique). `id` is the public id lists and revocation name. Expiry is required.
 * `issued_tokens.api_token_id` links each JWT exchanged for an API token to it, so revoking the API
 * token can name those JWTs in `tokens.revoked`.
 */
export function apiTokens(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('last_used_address', 'text')
        .execute();
      await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();
      // A name tells a user's unrevoked tokens apart; the service retires expired ones of that name
      // first, so this index keeps two creations racing with one name from both succeeding.
      await db.schema.createIndex('api_tokens_user_name').on('api_tokens').columns(['user_id', 'name']).unique().where(sql.ref('revoked_at'), 'is', null).execute();
      await db.schema.alterTable('issued_tokens').addColumn('api_token_id', 'text').execute();
      await db.schema.createIndex('issued_tokens_api_token').on('issued_tokens').column('api_token_id').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
