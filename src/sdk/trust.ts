/**
 * Trust material a workload keeps current: the root bundle and both CRLs. CRLs are verified
 * against their issuer before their serials count; a CRL past nextUpdate is kept (and logged)
 * rather than dropped, so a CA outage does not turn into an outage of every service.
 */
import { x509, parseCertificates, normalizeSerial } from '../shared/x509.ts';

export interface TrustState {
  bundlePem: string;
  roots: x509.X509Certificate[];
  crlPems: { root: string; intermediate: string };
  revoked: ReadonlySet<string>;
  /** Earliest nextUpdate of the two CRLs (ms). */
  crlNextUpdate: number;
}

export async function verifiedCrl(pem: string, issuers: x509.X509Certificate[]): Promise<x509.X509Crl> {
  const crl = new x509.X509Crl(x509.PemConverter.decodeFirst(pem));
  for (const issuer of issuers) {
    if (issuer.subject !== crl.issuer) continue;
    if (await crl.verify({ publicKey: issuer.publicKey })) return crl;
  }
  throw new Error(`the CRL of ${crl.issuer} is not signed by a CA we trust`);
}

/** Builds a trust state; `intermediate` is the issuer of our own chain (it signs the intermediate CRL). */
export async function buildTrust(bundlePem: string, crls: { root: string; intermediate: string }, intermediates: x509.X509Certificate[]): Promise<TrustState> {
  const roots = parseCertificates(bundlePem);
  if (roots.length === 0) throw new Error('the trust bundle holds no certificate');
  const rootCrl = await verifiedCrl(crls.root, roots);
  const intermediateCrl = await verifiedCrl(crls.intermediate, intermediates);
  const revoked = new Set<string>();
  for (const crl of [rootCrl, intermediateCrl]) for (const entry of crl.entries) revoked.add(normalizeSerial(entry.serialNumber));
  const next = [rootCrl.nextUpdate, intermediateCrl.nextUpdate].map((d) => d?.getTime() ?? Number.POSITIVE_INFINITY);
  return { bundlePem, roots, crlPems: crls, revoked, crlNextUpdate: Math.min(...next) };
}
