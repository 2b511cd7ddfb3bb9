import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * OAuth revocation bookkeeping: `oidc_models.account_id` lets a user's grants, tokens and
 * sessions be found without parsing payloads; `issued_tokens.revoked_at` marks JWT access tokens
 * revoked before they expire (introspection answers `active: false` for them).
 */
export function oauth(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('oidc_models').addColumn('account_id', 'text').execute();
      await db.schema.createIndex('oidc_models_account').on('oidc_models').columns(['account_id', 'model']).execute();
      await db.schema.alterTable('issued_tokens').addColumn('revoked_at', 'bigint').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
