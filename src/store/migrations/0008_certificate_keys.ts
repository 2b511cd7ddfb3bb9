import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * The key of every issued certificate, as the SHA-256 of its DER SubjectPublicKeyInfo: the CA
 * refuses to certify a key already certified for another service or revoked (src/pki/key-reuse.ts).
 * Certificates issued before are filled in from their stored PEM (the same digest: the SPKI as
 * the asn1-x509 types encode it, which is how the CA embeds it in every leaf).
 */
export function certificateKeys(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('certificates').addColumn('spki_sha256', 'text').execute();
      // (key, service, status): both questions of the key check are index ranges, however many
      // certificates a key has for its own service.
      await db.schema.createIndex('certificates_spki').on('certificates').columns(['spki_sha256', 'service', 'status']).execute();
      const rows = (await db.selectFrom('certificates').select(['serial', 'cert_pem']).execute()) as Array<{ serial: string; cert_pem: string }>;
      for (const row of rows) {
        const base64 = row.cert_pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
        const certificate = AsnConvert.parse(Buffer.from(base64, 'base64'), Certificate);
        const digest = createHash('sha256').update(new Uint8Array(AsnConvert.serialize(certificate.tbsCertificate.subjectPublicKeyInfo))).digest('hex');
        await db.updateTable('certificates').set({ spki_sha256: digest }).where('serial', '=', row.serial).execute();
      }
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
