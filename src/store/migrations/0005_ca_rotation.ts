import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * CA rotation: several roots/intermediates live side by side (active, next, retired), so CRLs
 * are kept per CA (`ca_crls`, replacing the per-kind `crls`), every issued certificate records
 * its issuing intermediate (a retired intermediate keeps signing the CRL of its own leaves), an
 * intermediate records its root, and a retired CA records when it was retired and when it left
 * the trust bundle (`dropped_at`: every leaf under it has expired). At most one active and one
 * next CA per kind, enforced by the database.
 */
export function caRotation(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('ca_certificates').addColumn('parent_id', 'text').execute();
      await db.schema.alterTable('ca_certificates').addColumn('retired_at', 'bigint').execute();
      await db.schema.alterTable('ca_certificates').addColumn('dropped_at', 'bigint').execute();
      await sql`update ca_certificates set parent_id = (select r.id from ca_certificates r where r.kind = 'root' and r.status = 'active' order by r.created_at desc limit 1) where kind = 'intermediate'`.execute(db);
      await sql`create unique index ca_certificates_one_per_state on ca_certificates (kind, status) where status in ('active', 'next')`.execute(db);

      await db.schema.alterTable('certificates').addColumn('issuer_id', 'text').execute();
      await sql`update certificates set issuer_id = (select c.id from ca_certificates c where c.kind = 'intermediate' and c.status = 'active' order by c.created_at desc limit 1)`.execute(db);
      await db.schema.createIndex('certificates_issuer').on('certificates').columns(['issuer_id', 'not_after']).execute();

      await db.schema
        .createTable('ca_crls')
        .addColumn('ca_id', 'text', (c) => c.primaryKey())
        .addColumn('crl_number', 'bigint', (c) => c.notNull())
        .addColumn('crl_pem', 'text', (c) => c.notNull())
        .addColumn('this_update', 'bigint', (c) => c.notNull())
        .addColumn('next_update', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into ca_crls (ca_id, crl_number, crl_pem, this_update, next_update)
        select c.id, l.crl_number, l.crl_pem, l.this_update, l.next_update
        from crls l join ca_certificates c on c.kind = l.issuer and c.status = 'active'`.execute(db);
      await db.schema.dropTable('crls').execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
