import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Verify-only keys: public keys of another issuer (a previous identity provider during a
 * migration), published in JWKS so its tokens stay valid, never used to sign. `expires_at`
 * (null: until removed) drops the key from JWKS at the end of the migration window.
 */
export function verificationKeys(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('verification_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('created_by', 'text')
        .execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
