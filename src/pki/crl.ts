/**
 * Certificate revocation lists, one per CA (every root and intermediate still trusted, so a
 * retired intermediate keeps listing the revoked leaves it signed). Each carries a cRLNumber
 * (RFC 5280 §5.2.3 requires it; @peculiar/x509 has no class for it, so it is built from the
 * generic Extension and the asn1-x509 CRLNumber type) and nextUpdate = thisUpdate + crlTtl.
 * They are re-signed at half their lifetime and immediately on revocation, and stored, so every
 * instance (and the CLI) serves the same document. PEM label `X509 CRL` (Node rejects `CRL`).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { x509, crlToPem, signingAlgorithmFor } from '../x509/index.ts';
import type { Executor } from '../store/index.ts';
import type { CaMaterial } from './authority.ts';
import { caKeyOnline, findCrl, revokedUnexpired, saveCrl, type CaKind } from './repository.ts';

export function crlNumberExtension(value: number): x509.Extension {
  return new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(value)));
}

/** Reads the cRLNumber of a CRL (tests and `ca crl`). */
export function crlNumberOf(crl: x509.X509Crl): number | undefined {
  const ext = crl.extensions.find((e) => e.type === id_ce_cRLNumber);
  return ext ? AsnConvert.parse(ext.value, CRLNumber).value : undefined;
}

const REASONS: Record<string, x509.X509CrlReason> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
};
export const REVOCATION_REASONS = Object.keys(REASONS);

export interface SignCrlOptions {
  now: number;
  crlTtl: number;
  /** Overrides nextUpdate (the last root CRL before the root key goes offline). */
  nextUpdate?: number;
}

/** Signs the next CRL of `issuer` and stores it; returns its row. */
export async function signCrl(db: Executor, issuer: CaMaterial, options: SignCrlOptions) {
  if (!issuer.key) throw new Error(`the ${issuer.kind} CA ${issuer.id} key is offline: its CRL cannot be re-signed here`);
  const previous = await findCrl(db, issuer.id);
  const crlNumber = Number(previous?.crl_number ?? 0) + 1;
  // A root signs only intermediates; Gatehouse never revokes an intermediate (it retires it), so
  // root CRLs are empty but still published: Node's `crl` option needs one per CA in the chain.
  const revoked = issuer.kind === 'intermediate' ? await revokedUnexpired(db, issuer.id, options.now) : [];
  const nextUpdate = options.nextUpdate ?? options.now + options.crlTtl;
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subjectName,
    thisUpdate: new Date(options.now * 1000),
    nextUpdate: new Date(nextUpdate * 1000),
    signingKey: issuer.key,
    signingAlgorithm: signingAlgorithmFor(issuer.key),
    extensions: [new x509.AuthorityKeyIdentifierExtension(issuer.keyId), crlNumberExtension(crlNumber)],
    entries: revoked.map((r) => ({
      serialNumber: r.serial.length % 2 === 1 ? `0${r.serial}` : r.serial,
      revocationDate: new Date(Number(r.revoked_at ?? options.now) * 1000),
      reason: REASONS[r.revocation_reason ?? 'unspecified'] ?? 0,
    })),
  });
  const row = { ca_id: issuer.id, crl_number: crlNumber, crl_pem: crlToPem(crl), this_update: options.now, next_update: nextUpdate };
  await saveCrl(db, row);
  return row;
}

/**
 * Re-signs what is missing or past half its lifetime (or everything with `force`), for every CA
 * given. A CA whose key is offline — in memory or, read again now, in the store (another
 * process may just have taken it offline) — is skipped: its last CRL, signed long-lived before
 * the key left, stays. Returns the kinds signed, in order.
 */
export async function refreshCrls(db: Executor, cas: CaMaterial[], options: SignCrlOptions & { force?: boolean }): Promise<CaKind[]> {
  const signed: CaKind[] = [];
  for (const ca of cas) {
    if (!ca.key) continue;
    const current = await findCrl(db, ca.id);
    const due = !current || options.force || Number(current.this_update) + options.crlTtl / 2 <= options.now;
    if (!due) continue;
    if (!(await caKeyOnline(db, ca.id))) continue;
    await signCrl(db, ca, options);
    signed.push(ca.kind);
  }
  return signed;
}

/** The CRLs of `cas` (in that order) as one PEM document; CAs without a stored CRL are left out. */
export async function crlDocument(db: Executor, cas: CaMaterial[]) {
  const rows = [];
  for (const ca of cas) {
    const row = await findCrl(db, ca.id);
    if (row) rows.push(row);
  }
  return rows;
}
