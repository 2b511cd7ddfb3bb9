import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * Signing keys: at most one `active` and one `next` key, enforced by the database so concurrent
 * first starts or rotations cannot leave two signing keys. Event cursors: the acknowledged
 * position of each RFC 8936 poll subscriber in the security event stream.
 */
export function tokensEvents(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql`create unique index signing_keys_one_per_state on signing_keys (state) where state in ('active', 'next')`.execute(db);
      await db.schema
        .createTable('event_cursors')
        .addColumn('subscriber', 'text', (c) => c.primaryKey())
        .addColumn('acked_seq', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('security_events_created').on('security_events').column('created_at').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
