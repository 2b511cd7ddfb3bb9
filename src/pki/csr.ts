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
import { createHash, createPublicKey, verify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert, AsnProp, AsnPropTypes, type IAsnParseOptions } from '@peculiar/asn1-schema';
import { Attributes } from '@peculiar/asn1-csr';
import { SubjectPublicKeyInfo, AlgorithmIdentifier, Extensions, SubjectAlternativeName, Name, id_ce_subjectAltName, type GeneralName } from '@peculiar/asn1-x509';
import { RsaSaPssParams, id_RSASSA_PSS, id_mgf1 } from '@peculiar/asn1-rsa';
import { x509, spiffeIdFor } from '../x509/index.ts';
import { GatehouseError } from '../shared/errors.ts';
import { encoded } from './encoded.ts';
import { boundedMemo } from '../shared/bounded-memo.ts';

export interface ParsedCsr {
  /** The requested key, as the structure the leaf embeds. */
  publicKeyInfo: SubjectPublicKeyInfo;
  /** The same, DER-encoded. */
  spkiDer: ArrayBuffer;
  /** SHA-256 (hex) of the DER SubjectPublicKeyInfo: what key reuse is checked by (spkiSha256). */
  spkiSha256: string;
  commonName: string | undefined;
  dns: string[];
  ips: string[];
  uris: string[];
  /** Names of a type we never grant (email, dn, upn …). */
  others: string[];
}

const invalidCsr = (description: string, detail?: string) => new GatehouseError('invalid_csr', description, detail === undefined ? {} : { detail });

const KEY_TYPES = 'ECDSA P-256/P-384, Ed25519 or RSA ≥ 2048 bits';
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
/** SEC 1 §2.3.3: the first octet of an uncompressed EC point. */
const UNCOMPRESSED_POINT = 0x04;
const COMMON_NAME = '2.5.4.3';

/**
 * The DER is ours (decoded from the PEM) and read once: no defensive copy, and no speculative
 * decoding of every OCTET STRING / BIT STRING's content as nested ASN.1 (asn1js tries it by
 * default; asn1-schema never reads the result).
 */
const PARSE_OPTIONS: IAsnParseOptions = { berOptions: { copyInput: false, parseEmbedded: false } };

/**
 * RFC 2986's CertificationRequest as @peculiar/asn1-csr declares it, except that the subject is
 * kept as its DER (read by ./csr.ts only for its CN, once per distinct subject: a service's CSRs
 * repeat it byte for byte, and decoding a Name was a quarter of decoding the whole request). The
 * properties are declared with asn1-schema's AsnProp called as a function: decorators are not
 * syntax Node's type stripping accepts.
 */
class RequestInfo {
  version = 0;
  subject = new ArrayBuffer(0);
  subjectPKInfo = new SubjectPublicKeyInfo();
  attributes = new Attributes();
}
AsnProp({ type: AsnPropTypes.Integer })(RequestInfo.prototype, 'version');
AsnProp({ type: AsnPropTypes.Any })(RequestInfo.prototype, 'subject');
AsnProp({ type: SubjectPublicKeyInfo })(RequestInfo.prototype, 'subjectPKInfo');
AsnProp({ type: Attributes, implicit: true, context: 0, optional: true })(RequestInfo.prototype, 'attributes');

class CertificationRequest {
  certificationRequestInfo = new RequestInfo();
  /** The exact signed bytes (asn1-schema fills `<name>Raw` for a `raw: true` property). */
  certificationRequestInfoRaw?: ArrayBuffer;
  signatureAlgorithm = new AlgorithmIdentifier();
  signature = new ArrayBuffer(0);
}
AsnProp({ type: RequestInfo, raw: true })(CertificationRequest.prototype, 'certificationRequestInfo');
AsnProp({ type: AlgorithmIdentifier })(CertificationRequest.prototype, 'signatureAlgorithm');
AsnProp({ type: AsnPropTypes.BitString })(CertificationRequest.prototype, 'signature');

/** SHA-256 (hex) of a SubjectPublicKeyInfo's DER: one key, one digest, wherever it appears. */
export function spkiSha256(spki: SubjectPublicKeyInfo | ArrayBuffer): string {
  const der = spki instanceof ArrayBuffer ? spki : AsnConvert.serialize(spki);
  return createHash('sha256').update(new Uint8Array(der)).digest('hex');
}

/**
 * What a requested key's AlgorithmIdentifier settles, kept per distinct one (OID + parameters as
 * received): CSRs bring a handful (P-256, P-384, Ed25519, RSA), and working these out again for
 * every CSR cost most of what verifying its signature does.
 */
interface KeyAlgorithm {
  /** The AlgorithmIdentifier, encoded (asn1js encodes OIDs arc by arc: most of a key's encoding). */
  encoded: AlgorithmIdentifier;
  /**
   * The key family, once node:crypto has read a key of this algorithm, where the
   * AlgorithmIdentifier alone decides it (EC: the curve; Ed25519). RSA keys also need their
   * modulus length, read from each key.
   */
  family?: KeyFamily;
}
const keyAlgorithms = boundedMemo<string, KeyAlgorithm>(64);

function keyAlgorithm(spki: SubjectPublicKeyInfo): KeyAlgorithm {
  const { algorithm, parameters } = spki.algorithm;
  const id = parameters ? `${algorithm} ${Buffer.from(parameters).toString('hex')}` : algorithm;
  return keyAlgorithms.get(id, () => ({ encoded: encoded<AlgorithmIdentifier>(AsnConvert.serialize(spki.algorithm)) }));
}

/**
 * The requested key as DER, encoded anew rather than copied from the CSR: the same key always
 * gets the same bytes and digest, whatever BER the CSR used (key reuse compares digests, and
 * node:crypto accepts a needlessly long length).
 */
function encodeSpki(spki: SubjectPublicKeyInfo, algorithm: KeyAlgorithm): ArrayBuffer {
  return AsnConvert.serialize(new SubjectPublicKeyInfo({ algorithm: algorithm.encoded, subjectPublicKey: spki.subjectPublicKey }));
}

/** Key families by node:crypto's asymmetricKeyType, named as WebCrypto does (what messages show). */
type KeyFamily = 'ECDSA' | 'Ed25519' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS';

/** The key types we sign for: ECDSA P-256/P-384, Ed25519, RSA (PKCS#1 or PSS-only) ≥ 2048 bits. */
function keyFamily(key: KeyObject): KeyFamily {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1') return 'ECDSA';
      break;
    case 'ed25519':
      return 'Ed25519';
    case 'rsa':
    case 'rsa-pss':
      if ((details.modulusLength ?? 0) >= 2048) return key.asymmetricKeyType === 'rsa' ? 'RSASSA-PKCS1-v1_5' : 'RSA-PSS';
      break;
  }
  const received = [key.asymmetricKeyType, details.namedCurve, details.modulusLength].filter(Boolean).join(' ');
  throw invalidCsr(`The CSR key type is not supported: expected ${KEY_TYPES}, received ${received}`);
}

/**
 * keyFamily, remembered for the algorithms whose AlgorithmIdentifier decides it: node:crypto
 * reads an EC key's curve (asymmetricKeyDetails) in about half the time it takes to import it.
 */
function familyOf(key: KeyObject, algorithm: KeyAlgorithm): KeyFamily {
  if (algorithm.family !== undefined) return algorithm.family;
  const family = keyFamily(key);
  if (family === 'ECDSA' || family === 'Ed25519') algorithm.family = family;
  return family;
}

const HASHES: Record<string, string> = { '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
/** Signature algorithms by OID: the key family they belong to and the hash (SHA-1 and MD5 are absent on purpose). */
const SIGNATURES: Record<string, { family: KeyFamily; hash: string | null; name: string }> = {
  '1.2.840.10045.4.3.2': { family: 'ECDSA', hash: 'sha256', name: 'ECDSA with SHA-256' },
  '1.2.840.10045.4.3.3': { family: 'ECDSA', hash: 'sha384', name: 'ECDSA with SHA-384' },
  '1.2.840.10045.4.3.4': { family: 'ECDSA', hash: 'sha512', name: 'ECDSA with SHA-512' },
  '1.2.840.113549.1.1.11': { family: 'RSASSA-PKCS1-v1_5', hash: 'sha256', name: 'RSASSA-PKCS1-v1_5 with SHA-256' },
  '1.2.840.113549.1.1.12': { family: 'RSASSA-PKCS1-v1_5', hash: 'sha384', name: 'RSASSA-PKCS1-v1_5 with SHA-384' },
  '1.2.840.113549.1.1.13': { family: 'RSASSA-PKCS1-v1_5', hash: 'sha512', name: 'RSASSA-PKCS1-v1_5 with SHA-512' },
  '1.3.101.112': { family: 'Ed25519', hash: null, name: 'Ed25519' },
};

interface SignatureCheck {
  hash: string | null;
  /** RSA-PSS: padding and salt length for node:crypto's verify. */
  pss?: { saltLength: number };
}

/**
 * A signature algorithm that belongs to the key (an EC key "signed" with RSA is refused as such,
 * before any verification) with SHA-256/384/512; RSA-PSS parameters must name one of those for
 * both the digest and MGF1.
 */
function signatureCheck(algorithm: { algorithm: string; parameters?: ArrayBuffer | null }, family: KeyFamily): SignatureCheck {
  const allowed: KeyFamily[] = family === 'RSA-PSS' ? ['RSA-PSS'] : family === 'RSASSA-PKCS1-v1_5' ? ['RSASSA-PKCS1-v1_5', 'RSA-PSS'] : [family];
  const refuse = (received: string) =>
    invalidCsr(`The CSR signature algorithm does not fit its ${family} key: expected ${allowed.join(' or ')}${family === 'Ed25519' ? '' : ' with SHA-256/384/512'}, received ${received}`);
  if (algorithm.algorithm === id_RSASSA_PSS) {
    if (!allowed.includes('RSA-PSS')) throw refuse('RSA-PSS');
    let params: RsaSaPssParams;
    let mgfHash: string | undefined;
    try {
      params = algorithm.parameters ? AsnConvert.parse(algorithm.parameters, RsaSaPssParams) : new RsaSaPssParams();
      // MGF1's parameter is the AlgorithmIdentifier of its hash.
      mgfHash = params.maskGenAlgorithm.parameters ? HASHES[AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm] : undefined;
    } catch (error) {
      throw invalidCsr('The CSR signature algorithm parameters cannot be parsed', (error as Error).message);
    }
    const hash = HASHES[params.hashAlgorithm.algorithm];
    if (!hash || params.maskGenAlgorithm.algorithm !== id_mgf1 || mgfHash !== hash) throw refuse(`RSA-PSS with ${params.hashAlgorithm.algorithm}`);
    return { hash, pss: { saltLength: params.saltLength } };
  }
  const known = SIGNATURES[algorithm.algorithm];
  if (!known || !allowed.includes(known.family)) throw refuse(known?.name ?? algorithm.algorithm);
  return { hash: known.hash };
}

/** Names a subjectAltName carries, by kind. */
type SanNames = Pick<ParsedCsr, 'dns' | 'ips' | 'uris' | 'others'>;

function generalName(name: GeneralName, into: SanNames): void {
  if (name.dNSName !== undefined) into.dns.push(name.dNSName.toLowerCase());
  else if (name.iPAddress !== undefined) into.ips.push(name.iPAddress);
  else if (name.uniformResourceIdentifier !== undefined) into.uris.push(name.uniformResourceIdentifier);
  else if (name.rfc822Name !== undefined) into.others.push(`email:${name.rfc822Name}`);
  else if (name.directoryName !== undefined) into.others.push(`dn:${new x509.Name(name.directoryName).toString()}`);
  else if (name.otherName !== undefined) into.others.push(`otherName:${name.otherName.typeId}`);
  else if (name.registeredID !== undefined) into.others.push(`id:${name.registeredID}`);
  else into.others.push('x400Address or ediPartyName');
}

/**
 * `decode` of a DER value, kept per distinct value: a service's CSRs repeat their subject and
 * their extensionRequest byte for byte, and decoding those was most of reading a CSR. Small values
 * only (up to 1 KiB), a bounded number of them (the oldest goes first); a larger one is decoded
 * every time.
 */
function decodedPerValue<V>(decode: (der: ArrayBuffer) => V): (der: ArrayBuffer) => V {
  const kept = boundedMemo<string, V>(1024);
  return (der) => (der.byteLength <= 1024 ? kept.get(Buffer.from(der).toString('base64'), () => decode(der)) : decode(der));
}

/** The subjectAltName names of one extensionRequest value (DER Extensions). */
const extensionRequestNames = decodedPerValue((value): Readonly<SanNames> => {
  const names: SanNames = { dns: [], ips: [], uris: [], others: [] };
  for (const extension of AsnConvert.parse(value, Extensions, PARSE_OPTIONS)) {
    if (extension.extnID !== id_ce_subjectAltName) continue;
    for (const name of AsnConvert.parse(extension.extnValue.buffer, SubjectAlternativeName, PARSE_OPTIONS)) generalName(name, names);
  }
  return names;
});

/** The CN values of a subject (DER Name), in order. */
const commonNames = decodedPerValue((subject): readonly string[] =>
  AsnConvert.parse(subject, Name, PARSE_OPTIONS).flatMap((rdn) => rdn.filter((attribute) => attribute.type === COMMON_NAME)).map((attribute) => attribute.value.toString()));

/** Requested names: the subject CN and the subjectAltName of every extensionRequest attribute. */
function requestedNames(subject: ArrayBuffer, attributes: Array<{ type: string; values: ArrayBuffer[] }>, into: ParsedCsr): void {
  const cns = commonNames(subject);
  into.commonName = cns[0];
  if (cns.length > 1) into.others.push('second CN');
  for (const attribute of attributes) {
    if (attribute.type !== EXTENSION_REQUEST) continue;
    for (const value of attribute.values) {
      const names = extensionRequestNames(value);
      into.dns.push(...names.dns);
      into.ips.push(...names.ips);
      into.uris.push(...names.uris);
      into.others.push(...names.others);
    }
  }
}

/**
 * Parses a PEM CSR and checks it: the key type (node:crypto reads the SubjectPublicKeyInfo), a
 * signature algorithm that fits the key, then the self-signature over the exact signed bytes
 * (node:crypto `verify`). Throws `invalid_csr`. The structure is decoded with
 * @peculiar/asn1-csr / asn1-x509 (the types @peculiar/x509 itself builds on): its
 * `Pkcs10CertificateRequest` re-decodes attributes and imports the key into WebCrypto on every
 * call, about 1 ms per CSR — half the CA's issuance budget (bench/pki.ts).
 */
export async function parseCsr(pem: unknown): Promise<ParsedCsr> {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
    throw invalidCsr('Expected a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)');
  }
  let request: CertificationRequest;
  let algorithm: KeyAlgorithm;
  let spkiDer: ArrayBuffer;
  let key: KeyObject;
  try {
    request = AsnConvert.parse(x509.PemConverter.decodeFirst(pem), CertificationRequest, PARSE_OPTIONS);
    algorithm = keyAlgorithm(request.certificationRequestInfo.subjectPKInfo);
    spkiDer = encodeSpki(request.certificationRequestInfo.subjectPKInfo, algorithm);
    // As PEM, which node:crypto reads in half the time of { key, format: 'der' }: Node 24 tells
    // an options object from a KeyObject or CryptoKey by catching exceptions.
    key = createPublicKey(x509.PemConverter.encode(spkiDer, 'PUBLIC KEY'));
  } catch (error) {
    if (error instanceof GatehouseError) throw error;
    throw invalidCsr('The CSR cannot be parsed', (error as Error).message);
  }
  const family = familyOf(key, algorithm);
  // One key, one digest: OpenSSL also reads an EC point in compressed form and keeps it so, which
  // would give a key already certified to another service a second digest (key reuse, issue 7).
  // RFC 5480 §2.2 makes only the uncompressed form mandatory; Go's x509, for one, reads no other.
  if (family === 'ECDSA' && new Uint8Array(request.certificationRequestInfo.subjectPKInfo.subjectPublicKey)[0] !== UNCOMPRESSED_POINT) {
    throw invalidCsr('The CSR key is an EC point in compressed form: send it uncompressed (RFC 5480 §2.2)');
  }
  const check = signatureCheck(request.signatureAlgorithm, family);
  const signed = request.certificationRequestInfoRaw;
  let valid: boolean;
  try {
    if (!signed) throw new Error('the signed part of the CSR is missing');
    const signature = new Uint8Array(request.signature);
    valid = check.pss
      ? verify(check.hash, new Uint8Array(signed), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: check.pss.saltLength }, signature)
      : verify(check.hash, new Uint8Array(signed), key, signature);
  } catch (error) {
    throw invalidCsr('The CSR signature cannot be verified', (error as Error).message);
  }
  if (!valid) throw invalidCsr('The CSR signature is invalid');

  const parsed: ParsedCsr = { publicKeyInfo: request.certificationRequestInfo.subjectPKInfo, spkiDer, spkiSha256: spkiSha256(spkiDer), commonName: undefined, dns: [], ips: [], uris: [], others: [] };
  try {
    requestedNames(request.certificationRequestInfo.subject, request.certificationRequestInfo.attributes, parsed);
  } catch (error) {
    throw invalidCsr('The CSR names cannot be parsed', (error as Error).message);
  }
  return parsed;
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
