/**
 * CSR validation and the name policy. The CA reads only the public key and the requested names
 * from a CSR; everything else in the leaf comes from our profile (./authority.ts).
 *
 * Name policy for the service a credential grants (`orders` below):
 * - URI SAN: at most one, and it must be that service's SPIFFE ID (added anyway);
 * - DNS SANs: `orders`, `orders.<anything>` (e.g. orders.shop.svc.cluster.local) and `localhost`;
 * - IP SANs: loopback only (127.0.0.0/8, ::1) — a workload must not claim another's address;
 * - subject CN, if any: the service name or one of the DNS names above;
 * - nothing else (e-mail, other name types) is granted.
 */
import { isIP } from 'node:net';
import { x509 } from '../shared/x509.ts';
import { spiffeIdFor } from '../shared/spiffe.ts';
import { GatehouseError } from '../shared/errors.ts';

export interface ParsedCsr {
  publicKey: x509.PublicKey;
  commonName: string | undefined;
  dns: string[];
  ips: string[];
  uris: string[];
  /** Names of a type we never grant (email, dn, upn …). */
  others: string[];
}

const invalidCsr = (description: string, detail?: string) => new GatehouseError('invalid_csr', description, detail === undefined ? {} : { detail });

/** Key types we sign for. Some others parse fine but `verify()` throws (P-192, secp256k1, DSA). */
function checkKeyType(publicKey: x509.PublicKey): void {
  let algorithm: { name: string; namedCurve?: string; modulusLength?: number };
  try {
    algorithm = publicKey.algorithm as typeof algorithm;
  } catch {
    throw invalidCsr('The CSR key type is not supported (expected ECDSA P-256/P-384, Ed25519 or RSA ≥ 2048 bits)');
  }
  const ok =
    (algorithm.name === 'ECDSA' && (algorithm.namedCurve === 'P-256' || algorithm.namedCurve === 'P-384')) ||
    algorithm.name === 'Ed25519' ||
    ((algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') && (algorithm.modulusLength ?? 0) >= 2048);
  if (!ok) {
    const received = [algorithm.name, algorithm.namedCurve, algorithm.modulusLength].filter(Boolean).join(' ');
    throw invalidCsr(`The CSR key type is not supported: expected ECDSA P-256/P-384, Ed25519 or RSA ≥ 2048 bits, received ${received}`);
  }
}

/** Parses a PEM CSR, checks its key type and its self-signature. Throws `invalid_csr`. */
export async function parseCsr(pem: unknown): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw invalidCsr('Expected a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (error) {
    throw invalidCsr('The CSR cannot be parsed', (error as Error).message);
  }
  let publicKey: x509.PublicKey;
  try {
    publicKey = csr.publicKey;
  } catch (error) {
    throw invalidCsr('The CSR public key cannot be parsed', (error as Error).message);
  }
  checkKeyType(publicKey);
  let valid = false;
  try {
    valid = await csr.verify();
  } catch (error) {
    throw invalidCsr('The CSR signature cannot be verified', (error as Error).message);
  }
  if (!valid) throw invalidCsr('The CSR signature is invalid');

  const names: ParsedCsr = { publicKey, commonName: undefined, dns: [], ips: [], uris: [], others: [] };
  for (const cn of csr.subjectName.getField('CN')) names.commonName ??= cn;
  if (csr.subjectName.getField('CN').length > 1) names.others.push('second CN');
  const san = csr.getExtension('2.5.29.17');
  if (san) {
    let parsed: x509.SubjectAlternativeNameExtension;
    try {
      parsed = new x509.SubjectAlternativeNameExtension(san.rawData);
    } catch (error) {
      throw invalidCsr('The CSR subjectAltName extension cannot be parsed', (error as Error).message);
    }
    for (const name of parsed.names.items) {
      if (name.type === 'dns') names.dns.push(name.value.toLowerCase());
      else if (name.type === 'ip') names.ips.push(name.value);
      else if (name.type === 'url') names.uris.push(name.value);
      else names.others.push(`${name.type}:${name.value}`);
    }
  }
  return names;
}

function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip === '0:0:0:0:0:0:0:1';
}

function dnsAllowed(name: string, service: string): boolean {
  if (name === 'localhost' || name === service) return true;
  if (!name.startsWith(`${service}.`)) return false;
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name) && name.length <= 253;
}

export interface GrantedNames {
  dns: string[];
  ips: string[];
}

/** Applies the name policy for `service`; throws `identity_not_allowed` naming the first refused name. */
export function authorizeNames(csr: ParsedCsr, grant: { trustDomain: string; service: string }): GrantedNames {
  const { service } = grant;
  const spiffeId = spiffeIdFor(grant.trustDomain, service);
  const refuse = (name: string) =>
    new GatehouseError('identity_not_allowed', `The credential grants ${spiffeId}; the CSR asks for ${name}`, { extensions: { requested: name, granted: spiffeId } });
  if (csr.others.length > 0) throw refuse(csr.others[0]!);
  if (csr.uris.length > 1) throw refuse(csr.uris[1]!);
  if (csr.uris.length === 1 && csr.uris[0] !== spiffeId) throw refuse(csr.uris[0]!);
  for (const name of csr.dns) if (!dnsAllowed(name, service)) throw refuse(name);
  for (const ip of csr.ips) if (!isLoopback(ip)) throw refuse(ip);
  if (csr.commonName !== undefined && csr.commonName !== service && !csr.dns.includes(csr.commonName.toLowerCase())) {
    throw refuse(`CN=${csr.commonName}`);
  }
  return { dns: [...new Set(csr.dns)], ips: [...new Set(csr.ips)] };
}
