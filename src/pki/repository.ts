/**
 * Narrow queries over the PKI tables. Every function takes an `Executor` so the caller decides
 * the transaction. Timestamps are epoch seconds.
 */
import type { Executor, CaCertificateRow, CertificateRow, JoinTokenRow } from '../store/index.ts';

export type CaKind = 'root' | 'intermediate';

export function listCaCertificates(db: Executor, kind: CaKind, statuses: Array<'active' | 'next' | 'retired'> = ['active', 'next']): Promise<CaCertificateRow[]> {
  return db.selectFrom('ca_certificates').selectAll().where('kind', '=', kind).where('status', 'in', statuses).orderBy('created_at', 'asc').execute();
}

export async function activeCaCertificate(db: Executor, kind: CaKind): Promise<CaCertificateRow | undefined> {
  return db.selectFrom('ca_certificates').selectAll().where('kind', '=', kind).where('status', '=', 'active').orderBy('created_at', 'desc').executeTakeFirst();
}

export async function insertCaCertificate(db: Executor, row: CaCertificateRow): Promise<void> {
  await db.insertInto('ca_certificates').values(row).execute();
}

export async function clearCaKey(db: Executor, id: string): Promise<void> {
  await db.updateTable('ca_certificates').set({ key_enc: null }).where('id', '=', id).execute();
}

export async function insertCertificate(db: Executor, row: CertificateRow): Promise<void> {
  await db.insertInto('certificates').values(row).execute();
}

export function findCertificate(db: Executor, serial: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
}

export function listCertificates(db: Executor, filter: { service?: string | undefined; status?: 'valid' | 'revoked' | undefined; unexpiredAt?: number | undefined; limit?: number }): Promise<CertificateRow[]> {
  let q = db.selectFrom('certificates').selectAll().orderBy('created_at', 'desc').orderBy('serial');
  if (filter.service !== undefined) q = q.where('service', '=', filter.service);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.unexpiredAt !== undefined) q = q.where('not_after', '>', filter.unexpiredAt);
  return q.limit(filter.limit ?? 1000).execute();
}

/** Revoked and not yet expired: what a CRL must list. */
export function revokedUnexpired(db: Executor, now: number): Promise<Array<Pick<CertificateRow, 'serial' | 'revoked_at' | 'revocation_reason'>>> {
  return db
    .selectFrom('certificates')
    .select(['serial', 'revoked_at', 'revocation_reason'])
    .where('status', '=', 'revoked')
    .where('not_after', '>', now)
    .orderBy('serial')
    .execute();
}

/** Marks valid certificates revoked; returns the rows that changed. */
export async function markRevoked(db: Executor, serials: string[], at: number, reason: string): Promise<CertificateRow[]> {
  if (serials.length === 0) return [];
  const rows = await db.selectFrom('certificates').selectAll().where('serial', 'in', serials).where('status', '=', 'valid').execute();
  if (rows.length === 0) return [];
  await db
    .updateTable('certificates')
    .set({ status: 'revoked', revoked_at: at, revocation_reason: reason })
    .where('serial', 'in', rows.map((r) => r.serial))
    .where('status', '=', 'valid')
    .execute();
  return rows;
}

export async function insertJoinToken(db: Executor, row: JoinTokenRow): Promise<void> {
  await db.insertInto('join_tokens').values(row).execute();
}

export function findJoinToken(db: Executor, id: string): Promise<JoinTokenRow | undefined> {
  return db.selectFrom('join_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The atomic one-time use: true only for the one caller that flips `used_at`. */
export async function consumeJoinToken(db: Executor, id: string, digest: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('join_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('digest', '=', digest)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function findCrl(db: Executor, issuer: CaKind) {
  return db.selectFrom('crls').selectAll().where('issuer', '=', issuer).executeTakeFirst();
}

export async function saveCrl(db: Executor, row: { issuer: CaKind; crl_number: number; crl_pem: string; this_update: number; next_update: number }): Promise<void> {
  const updated = await db
    .updateTable('crls')
    .set({ crl_number: row.crl_number, crl_pem: row.crl_pem, this_update: row.this_update, next_update: row.next_update })
    .where('issuer', '=', row.issuer)
    .where('crl_number', '<', row.crl_number)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    const existing = await findCrl(db, row.issuer);
    if (!existing) await db.insertInto('crls').values(row).execute();
  }
}
