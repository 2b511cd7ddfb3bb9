import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Identities at external identity providers linked to local users, keyed by (provider, subject):
 * never by e-mail. A user may have several; removing the user removes its links.
 */
export function federatedIdentities(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('federated_identities')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('label', 'text')
        .addColumn('linked_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login_at', 'bigint')
        .addPrimaryKeyConstraint('federated_identities_pk', ['provider', 'subject'])
        .execute();
      await db.schema.createIndex('federated_identities_user').on('federated_identities').column('user_id').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
