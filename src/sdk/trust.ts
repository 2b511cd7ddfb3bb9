/**
 * Trust material a workload keeps current: the root bundle, the intermediates still trusted and
 * the CRLs. During a CA rotation each CRL document holds several CRLs (one per trusted root or
 * intermediate, concatenated PEM); each one is verified against ITS issuer (same subject and a
 * valid signature) before its serials count, and one that no trusted CA signed fails the whole
 * load (the last good state is kept). A CRL past nextUpdate is kept (and logged) rather than
 * dropped, so a CA outage does not turn into an outage of every service — for at most
 * `maxCrlStaleness` (workload-identity.ts), after which mTLS peers are refused.
 */
import { x509, parseCertificates, normalizeSerial } from '../x509/index.ts';

export interface TrustState {
  bundlePem: string;
  roots: x509.X509Certificate[];
  crlPems: { root: string; intermediate: string };
  revoked: ReadonlySet<string>;
  /** Earliest nextUpdate of all CRLs (ms). */
  crlNextUpdate: number;
}

export async function verifiedCrl(crl: x509.X509Crl | string, issuers: x509.X509Certificate[]): Promise<x509.X509Crl> {
  const parsed = typeof crl === 'string' ? new x509.X509Crl(x509.PemConverter.decodeFirst(crl)) : crl;
  for (const issuer of issuers) {
    if (issuer.subject !== parsed.issuer) continue;
    if (await parsed.verify({ publicKey: issuer.publicKey })) return parsed;
  }
  throw new Error(`the CRL of ${parsed.issuer} is not signed by a CA we trust`);
}

/** Every CRL of a (possibly concatenated) PEM document. Node's `crl` option reads ONE per string: pass it this list. */
export function splitCrls(pem: string): x509.X509Crl[] {
  return x509.PemConverter.decode(pem).map((der) => new x509.X509Crl(der));
}

/** Intermediates from the CA's list that a root of the bundle signed (others are ignored). */
async function chainedIntermediates(pem: string | undefined, roots: x509.X509Certificate[]): Promise<x509.X509Certificate[]> {
  const verified: x509.X509Certificate[] = [];
  for (const cert of pem ? parseCertificates(pem) : []) {
    for (const root of roots) {
      if (root.subject === cert.issuer && (await cert.verify({ publicKey: root.publicKey, signatureOnly: true }))) {
        verified.push(cert);
        break;
      }
    }
  }
  return verified;
}

/**
 * Builds a trust state. `intermediates`: the issuers of our own chain; `intermediatesPem`: the
 * CA's list of every intermediate still trusted (`/pki/intermediates.pem`), kept only where a
 * root of the bundle signed it — the issuers of the other workloads' CRLs during a rotation.
 */
export async function buildTrust(bundlePem: string, crls: { root: string; intermediate: string }, intermediates: x509.X509Certificate[], intermediatesPem?: string): Promise<TrustState> {
  const roots = parseCertificates(bundlePem);
  if (roots.length === 0) throw new Error('the trust bundle holds no certificate');
  const issuers = [...intermediates, ...(await chainedIntermediates(intermediatesPem, roots))];
  const rootCrls = splitCrls(crls.root);
  const intermediateCrls = splitCrls(crls.intermediate);
  if (rootCrls.length === 0 || intermediateCrls.length === 0) throw new Error('a CRL document holds no CRL');
  const verified = [
    ...(await Promise.all(rootCrls.map((crl) => verifiedCrl(crl, roots)))),
    ...(await Promise.all(intermediateCrls.map((crl) => verifiedCrl(crl, issuers)))),
  ];
  const revoked = new Set<string>();
  for (const crl of verified) for (const entry of crl.entries) revoked.add(normalizeSerial(entry.serialNumber));
  const next = verified.map((crl) => crl.nextUpdate?.getTime() ?? Number.POSITIVE_INFINITY);
  return { bundlePem, roots, crlPems: crls, revoked, crlNextUpdate: Math.min(...next) };
}
