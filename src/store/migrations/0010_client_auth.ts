import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * How a client authenticates at the token endpoint (null: derived as before — `none` without a
 * secret, `client_secret_basic` with one), the keys of a `private_key_jwt` client (inline JWKS or
 * a JWKS URI), and the previous secret's digest, still accepted until its expiry after a rotation.
 */
export function clientAuth(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('token_endpoint_auth_method', 'text').execute();
      await db.schema.alterTable('clients').addColumn('jwks', 'text').execute();
      await db.schema.alterTable('clients').addColumn('jwks_uri', 'text').execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_digest', 'text').execute();
      await db.schema.alterTable('clients').addColumn('previous_secret_expires_at', 'bigint').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
