/**
 * PKI test helpers: CSRs with chosen names, certificates crafted with a chosen (often wrong)
 * profile signed by a given CA key, a foreign CA, and undici agents for the TLS listeners.
 */
import { webcrypto } from 'node:crypto';
import { Agent, request } from 'undici';
import { x509, privateKeyToPem, certificatesToPem, randomSerial, generateKeyAndCsr, type CryptoKey, type CsrNames, type KeyAndCsr } from '../../src/x509/index.ts';

export type { KeyAndCsr };

/** A P-256 key and a CSR asking for exactly these names (the SDK's own generateKeyAndCsr). */
export function makeCsr(options: CsrNames & { keys?: webcrypto.CryptoKeyPair } = {}): Promise<KeyAndCsr> {
  return generateKeyAndCsr(options, options.keys);
}

export interface Issuer { cert: x509.X509Certificate; key: CryptoKey }

export async function foreignCa(name = 'CN=Somebody Else CA'): Promise<Issuer & { pem: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return { cert, key: keys.privateKey, pem: certificatesToPem([cert]) };
}

export interface LeafProfile {
  uris?: string[];
  ca?: boolean;
  eku?: string[] | null;
  keyUsage?: number | null;
  notBefore?: Date;
  notAfter?: Date;
}

/** A leaf signed by `issuer` with exactly the profile asked for (defaults: a correct workload leaf). */
export async function craftLeaf(issuer: Issuer, profile: LeafProfile): Promise<{ keyPem: string; certPem: string; chainPem: string; serial: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const serial = randomSerial();
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(profile.ca ?? false, undefined, true)];
  const keyUsage = profile.keyUsage === undefined ? x509.KeyUsageFlags.digitalSignature : profile.keyUsage;
  if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  const eku = profile.eku === undefined ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : profile.eku;
  if (eku !== null) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
  extensions.push(new x509.SubjectAlternativeNameExtension((profile.uris ?? []).map((value) => ({ type: 'url' as const, value }))));
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: 'CN=crafted',
    issuer: issuer.cert.subjectName,
    notBefore: profile.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: profile.notAfter ?? new Date(Date.now() + 3_600_000),
    publicKey: keys.publicKey,
    signingKey: issuer.key,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  const certPem = certificatesToPem([cert]);
  return { keyPem: await privateKeyToPem(keys.privateKey), certPem, chainPem: certPem + certificatesToPem([issuer.cert]), serial };
}

/** An agent that trusts `ca` and skips the host-name check (the CA serves a SPIFFE-only cert). */
export function tlsAgent(ca: string, client?: { key: string; cert: string }): Agent {
  return new Agent({ connect: { ca, ...(client ?? {}), checkServerIdentity: () => undefined } });
}

export async function postJson(url: string, body: unknown, dispatcher?: Agent): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(dispatcher ? { dispatcher } : {}) });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function get(url: string, dispatcher: Agent): Promise<{ status: number; text: string }> {
  try {
    const response = await request(url, { dispatcher });
    return { status: response.statusCode, text: await response.body.text() };
  } catch (error) {
    return { status: 0, text: (error as Error).message };
  }
}
