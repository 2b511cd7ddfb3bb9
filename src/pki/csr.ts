/**
 * CSR validation and the name policy. The CA reads only the public key and the requested names
 * from a CSR; everything else in the leaf comes from our profile (./authority.ts).
 *
 * Name policy for the service a credential grants (`orders` below):
 * - URI SAN: at most one, and it must be that service's SPIFFE ID (added anyway);
 * - DNS SANs: `orders`, and `orders.<suffix>` for each suffix of `pki.dnsSuffixes` (exactly one
 *   label in front of the suffix: `orders.evil.com` or `orders.a.<suffix>` are refused);
 * - `localhost` and loopback IP SANs (127.0.0.0/8, ::1) only with `pki.allowLoopbackNames`; no
 *   other IP ever — a workload must not claim another's address;
 * - never a name of `pki.serverNames` (the CA's own TLS listener), whatever else allows it;
 * - subject CN, if any: the service name or one of the DNS names granted;
 * - nothing else (e-mail, other name types) is granted.
 */
import { BlockList, isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509, spiffeIdFor } from '../x509/index.ts';
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
const SUBJECT_ALT_NAME = '2.5.29.17';
const HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

type WebAlgorithm = { name: string; namedCurve?: string; modulusLength?: number; hash?: string | { name: string } };
const hashOf = (algorithm: WebAlgorithm) => (typeof algorithm.hash === 'string' ? algorithm.hash : algorithm.hash?.name);

/**
 * Key types we sign for, and a signature algorithm that belongs to the key. Checked BEFORE
 * `verify()`: @peculiar/x509 parses CSRs with P-192, secp256k1 or DSA keys but its verify()
 * throws on them (STACK-NOTES), and a mismatched pair (an EC key "signed" with RSA) must be
 * refused as such rather than reach WebCrypto.
 */
function checkKeyAndSignature(request: x509.Pkcs10CertificateRequest): void {
  const key = request.publicKey.algorithm as WebAlgorithm;
  const keyOk =
    (key.name === 'ECDSA' && (key.namedCurve === 'P-256' || key.namedCurve === 'P-384')) ||
    key.name === 'Ed25519' ||
    ((key.name === 'RSASSA-PKCS1-v1_5' || key.name === 'RSA-PSS') && (key.modulusLength ?? 0) >= 2048);
  if (!keyOk) {
    const received = [key.name, key.namedCurve, key.modulusLength].filter(Boolean).join(' ');
    throw invalidCsr(`The CSR key type is not supported: expected ${KEY_TYPES}, received ${received}`);
  }
  const signature = request.signatureAlgorithm as WebAlgorithm;
  const family = key.name === 'RSA-PSS' ? ['RSA-PSS'] : key.name === 'RSASSA-PKCS1-v1_5' ? ['RSASSA-PKCS1-v1_5', 'RSA-PSS'] : [key.name];
  const hashOk = signature.name === 'Ed25519' || HASHES.has(hashOf(signature) ?? '');
  if (!family.includes(signature.name) || !hashOk) {
    const received = [signature.name, hashOf(signature)].filter(Boolean).join(' with ');
    throw invalidCsr(`The CSR signature algorithm does not fit its ${key.name} key: expected ${family.join(' or ')}${key.name === 'Ed25519' ? '' : ' with SHA-256/384/512'}, received ${received}`);
  }
}

/**
 * Parses a PEM CSR with @peculiar/x509 (`Pkcs10CertificateRequest`), checks its key type and
 * signature algorithm, then its self-signature (`verify()`). Throws `invalid_csr`.
 */
export async function parseCsr(pem: unknown): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw invalidCsr('Expected a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(x509.PemConverter.decodeFirst(pem));
    // Both getters decode lazily: make a malformed key or algorithm fail here, as a parse error.
    void request.publicKey.algorithm;
    void request.signatureAlgorithm;
  } catch (error) {
    throw invalidCsr('The CSR cannot be parsed', (error as Error).message);
  }
  checkKeyAndSignature(request);
  let valid: boolean;
  try {
    valid = await request.verify();
  } catch (error) {
    throw invalidCsr('The CSR signature cannot be verified', (error as Error).message);
  }
  if (!valid) throw invalidCsr('The CSR signature is invalid');

  const names: ParsedCsr = { publicKeyInfo: AsnConvert.parse(request.publicKey.rawData, SubjectPublicKeyInfo), commonName: undefined, dns: [], ips: [], uris: [], others: [] };
  try {
    const cns = request.subjectName.getField('CN');
    names.commonName = cns[0];
    if (cns.length > 1) names.others.push('second CN');
    for (const extension of request.getExtensions(SUBJECT_ALT_NAME)) {
      const san = extension instanceof x509.SubjectAlternativeNameExtension ? extension : new x509.SubjectAlternativeNameExtension(extension.rawData);
      for (const name of san.names.items) {
        if (name.type === 'dns') names.dns.push(name.value.toLowerCase());
        else if (name.type === 'ip') names.ips.push(name.value);
        else if (name.type === 'url') names.uris.push(name.value);
        else names.others.push(`${name.type}:${name.value}`);
      }
    }
  } catch (error) {
    throw invalidCsr('The CSR names cannot be parsed', (error as Error).message);
  }
  return names;
}

export { SubjectPublicKeyInfo };

/** What a grant may put in DNS/IP SANs besides the SPIFFE ID (the `pki` config keys). */
export interface NamePolicyConfig {
  /** `<service>.<suffix>` is granted for each of these (lower case, no leading dot). */
  dnsSuffixes: readonly string[];
  /** Grant `localhost` and loopback IPs (127.0.0.0/8, ::1). */
  allowLoopbackNames: boolean;
  /** The CA's own TLS listener names: never granted to a workload. */
  serverNames: readonly string[];
}

/** The name policy compiled once at load time (`namePolicy(config)`). */
export interface NamePolicy {
  dnsAllowed(name: string, service: string): boolean;
  ipAllowed(ip: string): boolean;
}

const family = (ip: string) => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

/** IPs are matched with BlockLists, which match every spelling of an address (::1 and
 * 0:0:0:0:0:0:0:1, ::ffff:127.0.0.1 for 127.0.0.1). */
export function namePolicy(config: NamePolicyConfig): NamePolicy {
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  const serverIps = new BlockList();
  const serverDns = new Set<string>();
  for (const name of config.serverNames) {
    if (isIP(name)) serverIps.addAddress(name, family(name));
    else serverDns.add(name.toLowerCase().replace(/\.$/, ''));
  }
  const suffixes = config.dnsSuffixes.map((suffix) => suffix.toLowerCase());
  return {
    dnsAllowed(name, service) {
      if (serverDns.has(name)) return false;
      if (name === 'localhost') return config.allowLoopbackNames;
      return name === service || suffixes.some((suffix) => name === `${service}.${suffix}`);
    },
    ipAllowed(ip) {
      if (!isIP(ip) || serverIps.check(ip, family(ip))) return false;
      return config.allowLoopbackNames && loopback.check(ip, family(ip));
    },
  };
}

export interface GrantedNames {
  dns: string[];
  ips: string[];
}

/** Applies the name policy for `service`; throws `identity_not_allowed` naming the first refused name. */
export function authorizeNames(csr: ParsedCsr, grant: { trustDomain: string; service: string }, policy: NamePolicy): GrantedNames {
  const { service } = grant;
  const spiffeId = spiffeIdFor(grant.trustDomain, service);
  const refuse = (name: string) =>
    new GatehouseError('identity_not_allowed', `The credential grants ${spiffeId}; the CSR asks for ${name}`, { extensions: { requested: name, granted: spiffeId } });
  if (csr.others.length > 0) throw refuse(csr.others[0]!);
  if (csr.uris.length > 1) throw refuse(csr.uris[1]!);
  if (csr.uris.length === 1 && csr.uris[0] !== spiffeId) throw refuse(csr.uris[0]!);
  for (const name of csr.dns) if (!policy.dnsAllowed(name, service)) throw refuse(name);
  for (const ip of csr.ips) if (!policy.ipAllowed(ip)) throw refuse(ip);
  if (csr.commonName !== undefined && csr.commonName !== service && !csr.dns.includes(csr.commonName.toLowerCase())) {
    throw refuse(`CN=${csr.commonName}`);
  }
  return { dns: [...new Set(csr.dns)], ips: [...new Set(csr.ips)] };
}
