/**
 * The one place that loads @peculiar/x509: it needs `reflect-metadata` before it is evaluated,
 * and WebCrypto from node:crypto as its provider. Both the CA (src/pki) and the SDK import X.509
 * helpers from here; nothing in this file touches the store or any server component.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, createHash } from 'node:crypto';
import { randomBytesPool } from '../shared/random.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

// The project compiles without the DOM lib: WebCrypto types come from node:crypto.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** PEM label Node and openssl accept for CRLs (@peculiar/x509 writes `BEGIN CRL`). */
export const CRL_PEM_LABEL = 'X509 CRL';

/** Serial numbers compare as lower-case hex without colons or leading zeros. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

const SERIAL_BYTES = 16;
/** One CSPRNG call per 256 serials: one per serial was ≈ 5 % of signing a leaf in the CA's issuance path. */
const serialBytes = randomBytesPool(SERIAL_BYTES * 256);

/** A random positive serial of 128 bits (RFC 5280 §4.1.2.2 allows up to 20 octets). */
export function randomSerial(): string {
  const bytes = serialBytes(SERIAL_BYTES);
  // Top bit clear keeps the INTEGER positive; 0x40 set keeps the first octet non-zero.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** Splits a PEM bundle into its certificates (in order). */
export function parseCertificates(pem: string): x509.X509Certificate[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === 'CERTIFICATE')
    .map((block) => new x509.X509Certificate(block.rawData));
}

export function certificatesToPem(certs: Array<x509.X509Certificate | ArrayBuffer>): string {
  return certs.map((c) => x509.PemConverter.encode(c instanceof ArrayBuffer ? c : c.rawData, 'CERTIFICATE')).join('\n') + '\n';
}

export function crlToPem(crl: x509.X509Crl | ArrayBuffer): string {
  return x509.PemConverter.encode(crl instanceof ArrayBuffer ? crl : crl.rawData, CRL_PEM_LABEL) + '\n';
}

/** SHA-256 of the DER certificate, lower-case hex (what `openssl x509 -fingerprint -sha256` shows, without colons). */
export function fingerprintSha256(cert: x509.X509Certificate | ArrayBuffer | Uint8Array): string {
  const der = cert instanceof x509.X509Certificate ? cert.rawData : cert;
  return createHash('sha256').update(new Uint8Array(der)).digest('hex');
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** Signature algorithm of an ECDSA key: the hash follows the curve size. */
export function signingAlgorithmFor(key: CryptoKey): webcrypto.EcdsaParams {
  const curve = (key.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
  return { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : curve === 'P-521' ? 'SHA-512' : 'SHA-256' };
}

/** Imports a PKCS#8 PEM ECDSA private key (P-256 or P-384) for signing. */
export async function importEcPrivateKey(pem: string, extractable = false): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  let lastError: unknown;
  for (const namedCurve of ['P-256', 'P-384']) {
    try {
      return await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, extractable, ['sign']);
    } catch (error) {
      lastError = error;
    }
  }
  throw new TypeError(`expected a PKCS#8 ECDSA P-256 or P-384 private key (${(lastError as Error)?.message ?? 'unreadable'})`);
}

/** Names a workload asks for in a CSR (the CA's name policy decides what it grants). */
export interface CsrNames {
  cn?: string | undefined;
  dns?: string[] | undefined;
  ips?: string[] | undefined;
  uris?: string[] | undefined;
}

export interface KeyAndCsr {
  keys: CryptoKeyPair;
  /** PKCS#8 PEM of the private key: it stays with the caller. */
  keyPem: string;
  /** PEM CSR (ECDSA with SHA-256) carrying the names as a subjectAltName extension request. */
  csr: string;
}

/** Generates a P-256 key (unless `keys` is given) and a CSR for it: what a workload sends the CA. */
export async function generateKeyAndCsr(names: CsrNames = {}, keys?: CryptoKeyPair): Promise<KeyAndCsr> {
  const pair = keys ?? (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']));
  const sans: x509.JsonGeneralNames = [
    ...(names.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(names.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(names.cn ? { name: [{ CN: [names.cn] }] } : {}),
    keys: pair,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return { keys: pair, keyPem: await privateKeyToPem(pair.privateKey), csr: csr.toString('pem') };
}
