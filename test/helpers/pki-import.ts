import { webcrypto } from 'node:crypto';
import { x509, certificatesToPem, crlToPem, privateKeyToPem, randomSerial } from '../../src/x509/index.ts';
import type { Issuer } from './pki.ts';

/** An intermediate CA signed by `root`, with its key as PKCS#8 PEM (what `ca init --import-…` takes). */
export async function craftIntermediate(root: Issuer): Promise<{ cert: x509.X509Certificate; pem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(), subject: 'CN=Imported Intermediate', issuer: root.cert.subjectName,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 30 * 86_400_000),
    publicKey: keys.publicKey, signingKey: root.key, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(root.cert.publicKey)],
  });
  return { cert, pem: certificatesToPem([cert]), keyPem: await privateKeyToPem(keys.privateKey) };
}

/** A CRL signed by `root` (what `ca init --import-root … --root-crl` takes when the root key stays offline). */
export async function craftRootCrl(root: Issuer, options: { nextUpdate?: Date } = {}): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: root.cert.subjectName,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: options.nextUpdate ?? new Date(Date.now() + 90 * 86_400_000),
    signingKey: root.key,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    entries: [],
  });
  return crlToPem(crl);
}
