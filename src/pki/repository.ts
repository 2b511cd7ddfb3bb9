/**
 * Narrow queries over the PKI tables. Every function takes an `Executor` so the caller decides
 * the transaction. Timestamps are epoch seconds.
 */
import { prepared, type Executor, type CaCertificateRow, type CertificateRow, type JoinTokenRow } from '../store/index.ts';

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

export function findCertificate(db: Executor, serial: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
}

/** The statements every issuance runs, compiled once per store (../store/prepared.ts). */
export interface IssuanceStatements {
  /**
   * A certificate of this key (SHA-256 of its SubjectPublicKeyInfo) for another service, else a
   * revoked one of the same service; undefined if none.
   */
  conflictingCertificate(db: Executor, spkiSha256: string, service: string): Promise<Pick<CertificateRow, 'serial' | 'service' | 'status'> | undefined>;
  insertCertificate(db: Executor, row: CertificateRow): Promise<void>;
}

export function issuanceStatements(db: Executor): IssuanceStatements {
  // Three index ranges of certificates_spki (other services below and above this one, then this
  // service's revoked certificates), so a key certified many times for its own service costs no
  // scan. Written as `service < ? OR service > ?`, SQLite runs a MULTI-INDEX OR (a rowid set
  // built per query), about four times slower.
  const conflicting = prepared(db, (db, p: { spki: string; service: string }) => {
    const ofKey = () => db.selectFrom('certificates').select(['serial', 'service', 'status']).where('spki_sha256', '=', p.spki);
    return ofKey()
      .where('service', '<', p.service)
      .unionAll(ofKey().where('service', '>', p.service))
      .unionAll(ofKey().where('service', '=', p.service).where('status', '=', 'revoked'))
      .limit(1);
  });
  const insert = prepared(db, (db, row: CertificateRow) =>
    db.insertInto('certificates').values({
      serial: row.serial,
      service: row.service,
      spiffe_id: row.spiffe_id,
      sans: row.sans,
      not_before: row.not_before,
      not_after: row.not_after,
      requested_by: row.requested_by,
      status: row.status,
      revoked_at: row.revoked_at,
      revocation_reason: row.revocation_reason,
      cert_pem: row.cert_pem,
      created_at: row.created_at,
      issuer_id: row.issuer_id,
      spki_sha256: row.spki_sha256,
    }),
  );
  return {
    conflictingCertificate: async (db, spki, service) => (await conflicting(db, { spki, service }))[0],
    insertCertificate: async (db, row) => {
      await insert(db, row);
    },
  };
}

/** The certificate of every CA this store ever had (dropped ones too): their keys are never certified as leaves. */
export async function everyCaCertificatePem(db: Executor): Promise<string[]> {
  return (await db.selectFrom('ca_certificates').select('cert_pem').execute()).map((r) => r.cert_pem);
}

export function listCertificates(db: Executor, filter: { service?: string | undefined; status?: 'valid' | 'revoked' | undefined; unexpiredAt?: number | undefined; limit?: number }): Promise<CertificateRow[]> {
  let q = db.selectFrom('certificates').selectAll().orderBy('created_at', 'desc').orderBy('serial');
  if (filter.service !== undefined) q = q.where('service', '=', filter.service);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.unexpiredAt !== undefined) q = q.where('not_after', '>', filter.unexpiredAt);
  return q.limit(filter.limit ?? 1000).execute();
}

/** Revoked by this intermediate and not yet expired: what its CRL must list. */
export function revokedUnexpired(db: Executor, issuerId: string, now: number): Promise<Array<Pick<CertificateRow, 'serial' | 'revoked_at' | 'revocation_reason'>>> {
  return db
    .selectFrom('certificates')
    .select(['serial', 'revoked_at', 'revocation_reason'])
    .where('issuer_id', '=', issuerId)
    .where('status', '=', 'revoked')
    .where('not_after', '>', now)
    .orderBy('serial')
    .execute();
}

/** Which certificates a revocation names: one by serial, or every unexpired one of a service. */
export type RevocationTarget = { serial: string } | { service: string; unexpiredAt: number };

/**
 * Marks the target's valid certificates revoked in one statement and returns the rows that
 * changed: no list of serials travels to the database and back, however many a service holds.
 */
export function markRevoked(db: Executor, target: RevocationTarget, at: number, reason: string): Promise<CertificateRow[]> {
  const update = db.updateTable('certificates').set({ status: 'revoked', revoked_at: at, revocation_reason: reason }).where('status', '=', 'valid');
  const targeted = 'serial' in target ? update.where('serial', '=', target.serial) : update.where('service', '=', target.service).where('not_after', '>', target.unexpiredAt);
  return targeted.returningAll().execute();
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

export function findCrl(db: Executor, caId: string) {
  return db.selectFrom('ca_crls').selectAll().where('ca_id', '=', caId).executeTakeFirst();
}

/** Stores a CRL unless a newer one (higher cRLNumber) is already there (two signers racing). */
export async function saveCrl(db: Executor, row: { ca_id: string; crl_number: number; crl_pem: string; this_update: number; next_update: number }): Promise<void> {
  // One statement: two processes storing the first CRL of a CA at once must not collide.
  await db
    .insertInto('ca_crls')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('ca_id')
        .doUpdateSet({ crl_number: row.crl_number, crl_pem: row.crl_pem, this_update: row.this_update, next_update: row.next_update })
        .where('ca_crls.crl_number', '<', row.crl_number),
    )
    .execute();
}

/** CA rows still trusted: active, next, and retired ones not dropped yet (leaves under them still valid). */
export function trustedCaCertificates(db: Executor): Promise<CaCertificateRow[]> {
  return db
    .selectFrom('ca_certificates')
    .selectAll()
    .where((eb) => eb.or([eb('status', 'in', ['active', 'next']), eb.and([eb('status', '=', 'retired'), eb('dropped_at', 'is', null)])]))
    .orderBy('created_at', 'asc')
    .orderBy('id')
    .execute();
}

/**
 * What a loaded authority depends on, as one string: a running service compares it every
 * pki.caCheckInterval and reloads when another process (the CLI) rotated, retired, dropped or
 * took a key offline.
 */
export async function caStateKey(db: Executor): Promise<string> {
  const rows = await db.selectFrom('ca_certificates').select(['id', 'status', 'key_enc', 'dropped_at']).orderBy('id').execute();
  return rows.map((r) => `${r.id}:${r.status}:${r.key_enc === null ? 'offline' : 'online'}:${r.dropped_at === null ? '' : 'dropped'}`).join(',');
}

export function caCertificateOfStatus(db: Executor, kind: CaKind, status: 'active' | 'next'): Promise<CaCertificateRow | undefined> {
  return db.selectFrom('ca_certificates').selectAll().where('kind', '=', kind).where('status', '=', status).executeTakeFirst();
}

export async function setCaStatus(db: Executor, id: string, status: 'active' | 'retired', at: number): Promise<void> {
  await db.updateTable('ca_certificates').set(status === 'retired' ? { status, retired_at: at } : { status }).where('id', '=', id).execute();
}

/** Takes a retired CA out of the bundle for good and erases its key. */
export async function dropCa(db: Executor, id: string, at: number): Promise<void> {
  await db.updateTable('ca_certificates').set({ dropped_at: at, key_enc: null }).where('id', '=', id).where('status', '=', 'retired').execute();
}

/** Is the CA's key still in the store right now (another process may have taken it offline)? */
export async function caKeyOnline(db: Executor, id: string): Promise<boolean> {
  const row = await db.selectFrom('ca_certificates').select('key_enc').where('id', '=', id).executeTakeFirst();
  return row?.key_enc != null;
}

/** Latest not_after of the leaves an intermediate signed (0 when none). */
export async function latestLeafExpiry(db: Executor, issuerId: string): Promise<number> {
  const row = await db.selectFrom('certificates').select((eb) => eb.fn.max('not_after').as('latest')).where('issuer_id', '=', issuerId).executeTakeFirst();
  return Number(row?.latest ?? 0);
}
