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
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Extensions, GeneralNames, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509 } from '../shared/x509.ts';
import { spiffeIdFor } from '../shared/spiffe.ts';
import { GatehouseError } from '../shared/errors.ts';

export interface ParsedCsr {
  /** The requested key, as the structure the leaf embeds. */
  publicKeyInfo: SubjectPublicKeyInfo;
  commonName: string | undefined;
  dns: string[];
  ips: string[];
  uris: string[];
  /** Names of a type we never grant (email, dn, upn …). */
  others: string[];
}

const invalidCsr = (description: string, detail?: string) => new GatehouseError('invalid_csr', description, detail === undefined ? {} : { detail });

const KEY_TYPES = 'ECDSA P-256/P-384, Ed25519 or RSA ≥ 2048 bits';

/** Key types we sign for. Others (P-192, secp256k1, DSA, small RSA) are refused before any verification. */
function checkKeyType(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  const ok =
    (type === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) ||
    type === 'ed25519' ||
    (type === 'rsa' && (details.modulusLength ?? 0) >= 2048);
  if (!ok) {
    const received = [type, details.namedCurve, details.modulusLength].filter(Boolean).join(' ');
    throw invalidCsr(`The CSR key type is not supported: expected ${KEY_TYPES}, received ${received}`);
  }
}

/** CSR signature algorithms we verify, by OID → hash for node:crypto (null: the key decides, Ed25519). */
const SIGNATURE_ALGORITHMS: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';
const COMMON_NAME = '2.5.4.3';

/**
 * Parses a PEM CSR (ASN.1 via @peculiar/asn1-csr), checks its key type, then its self-signature
 * with node:crypto. Throws `invalid_csr`. (The @peculiar/x509 CSR class is several times slower
 * on this path, which is the CA's hot path: ../../bench/pki.ts.)
 */
export async function parseCsr(pem: unknown): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw invalidCsr('Expected a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  let request: CertificationRequest;
  let key: KeyObject;
  try {
    request = AsnConvert.parse(x509.PemConverter.decodeFirst(pem), CertificationRequest);
    key = createPublicKey({ key: Buffer.from(AsnConvert.serialize(request.certificationRequestInfo.subjectPKInfo)), format: 'der', type: 'spki' });
  } catch (error) {
    throw invalidCsr('The CSR cannot be parsed', (error as Error).message);
  }
  checkKeyType(key);
  const hash = SIGNATURE_ALGORITHMS[request.signatureAlgorithm.algorithm];
  if (hash === undefined) throw invalidCsr(`The CSR signature algorithm ${request.signatureAlgorithm.algorithm} is not supported`);
  const signed = request.certificationRequestInfoRaw ?? AsnConvert.serialize(request.certificationRequestInfo);
  let valid = false;
  try {
    valid = verify(hash, new Uint8Array(signed), { key, dsaEncoding: 'der' }, new Uint8Array(request.signature));
  } catch (error) {
    throw invalidCsr('The CSR signature cannot be verified', (error as Error).message);
  }
  if (!valid) throw invalidCsr('The CSR signature is invalid');

  const info = request.certificationRequestInfo;
  const names: ParsedCsr = { publicKeyInfo: info.subjectPKInfo, commonName: undefined, dns: [], ips: [], uris: [], others: [] };
  for (const rdn of info.subject) {
    for (const attribute of rdn) {
      if (attribute.type !== COMMON_NAME) continue;
      if (names.commonName === undefined) names.commonName = attribute.value.toString();
      else names.others.push('second CN');
    }
  }
  try {
    for (const attribute of info.attributes) {
      if (attribute.type !== EXTENSION_REQUEST) continue;
      for (const value of attribute.values) {
        for (const extension of AsnConvert.parse(value, Extensions)) {
          if (extension.extnID !== SUBJECT_ALT_NAME) continue;
          for (const name of AsnConvert.parse(extension.extnValue.buffer, GeneralNames)) {
            if (name.dNSName !== undefined) names.dns.push(name.dNSName.toLowerCase());
            else if (name.iPAddress !== undefined) names.ips.push(name.iPAddress);
            else if (name.uniformResourceIdentifier !== undefined) names.uris.push(name.uniformResourceIdentifier);
            else names.others.push(Object.keys(name).find((k) => (name as unknown as Record<string, unknown>)[k] !== undefined) ?? 'unknown name');
          }
        }
      }
    }
  } catch (error) {
    throw invalidCsr('The CSR extension request cannot be parsed', (error as Error).message);
  }
  return names;
}

export { SubjectPublicKeyInfo };

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
