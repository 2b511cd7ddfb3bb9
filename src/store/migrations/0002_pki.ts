import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/** Internal CA: CA certificates and keys, issued certificates, join tokens, CRLs. */
export function pki(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('ca_certificates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('root', 'intermediate')`))
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'next', 'retired')`))
        .addColumn('cert_pem', 'text', (c) => c.notNull())
        .addColumn('key_enc', 'text')
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('spiffe_id', 'text', (c) => c.notNull())
        .addColumn('sans', 'text', (c) => c.notNull())
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('valid', 'revoked')`))
        .addColumn('revoked_at', 'bigint')
        .addColumn('revocation_reason', 'text')
        .addColumn('cert_pem', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('certificates_service').on('certificates').column('service').execute();
      await db.schema.createIndex('certificates_status').on('certificates').columns(['status', 'not_after']).execute();

      await db.schema
        .createTable('join_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('crls')
        .addColumn('issuer', 'text', (c) => c.primaryKey())
        .addColumn('crl_number', 'bigint', (c) => c.notNull())
        .addColumn('crl_pem', 'text', (c) => c.notNull())
        .addColumn('this_update', 'bigint', (c) => c.notNull())
        .addColumn('next_update', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
