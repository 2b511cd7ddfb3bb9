/**
 * The leaf signing path of ./authority.ts. It builds the TBSCertificate with the asn1-x509 types
 * @peculiar/x509 itself uses, with every constant part (issuer name, signature algorithm,
 * basicConstraints, keyUsage, EKU, AKI) encoded once per issuer, and signs with node:crypto (the same OpenSSL that
 * backs WebCrypto): X509CertificateGenerator costs ~1.5–2.5 ms per leaf (re-parsing every
 * extension and the result), which would cap issuance far below the 1,000/s target
 * (bench/pki.ts). The structure is still built and encoded by @peculiar/asn1-x509 (and asn1js
 * under it); nothing here writes a tag or a length. src/pki/leaf-profile.test.ts checks the TBS
 * byte for byte against X509CertificateGenerator's.
 *
 * Per leaf only its serial, validity (once a second), key and subjectKeyIdentifier are encoded
 * anew: its subject and subjectAltName are kept per identity (service + granted names).
 */
import { createHash, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import { x509, randomSerial, signingAlgorithmFor, spiffeIdFor } from '../x509/index.ts';
import { GatehouseError } from '../shared/errors.ts';
import { encoded } from './encoded.ts';
import { boundedMemo } from '../shared/bounded-memo.ts';
import type { CaMaterial, LeafRequest, SignedLeaf } from './authority.ts';

/** CA certificates and leaves are back-dated a little so a peer whose clock lags accepts them. */
export const BACKDATE_SECONDS = 60;
/** A leaf's back-dating stays a small part of its lifetime (renewal timing is a fraction of it). */
const leafBackdate = (ttl: number) => Math.min(BACKDATE_SECONDS, Math.floor(ttl / 10));

const ECDSA_WITH = { 'SHA-256': ['1.2.840.10045.4.3.2', 'sha256'], 'SHA-384': ['1.2.840.10045.4.3.3', 'sha384'], 'SHA-512': ['1.2.840.10045.4.3.4', 'sha512'] } as const;

/** Signs a leaf for `issuer` (its key online): see the top of this file. */
export function leafSigner(issuer: CaMaterial, context: { trustDomain: string; now: () => number }): (request: LeafRequest) => Promise<SignedLeaf> {
  const issuerName = encoded<asn1.Name>(issuer.cert.subjectName.toArrayBuffer());
  const hashName = signingAlgorithmFor(issuer.key!).hash as keyof typeof ECDSA_WITH;
  const [algorithmOid, nodeHash] = ECDSA_WITH[hashName];
  const algorithm = encoded<asn1.AlgorithmIdentifier>(AsnConvert.serialize(new asn1.AlgorithmIdentifier({ algorithm: algorithmOid })));
  const constant = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
  ].map((ext) => encoded<asn1.Extension>(ext.rawData));
  const authorityKeyId = encoded<asn1.Extension>(new x509.AuthorityKeyIdentifierExtension(issuer.keyId).rawData);
  const issuerNotAfter = Math.floor(issuer.cert.notAfter.getTime() / 1000);
  const identityParts = identityPartsCache(context.trustDomain);
  // Leaves issued within one second with one lifetime share their validity.
  let lastValidity: { notBefore: number; notAfter: number; encoded: asn1.Validity } | undefined;
  const validity = (notBefore: number, notAfter: number): asn1.Validity => {
    if (lastValidity?.notBefore !== notBefore || lastValidity.notAfter !== notAfter) {
      const der = AsnConvert.serialize(new asn1.Validity({ notBefore: new Date(notBefore * 1000), notAfter: new Date(notAfter * 1000) }));
      lastValidity = { notBefore, notAfter, encoded: encoded<asn1.Validity>(der) };
    }
    return lastValidity.encoded;
  };

  return async (request) => {
    const now = Math.floor(context.now() / 1000);
    const notBefore = now - leafBackdate(request.ttlSeconds);
    // A leaf never outlives its issuer.
    const notAfter = Math.min(now + request.ttlSeconds, issuerNotAfter);
    if (notAfter <= now) throw new GatehouseError('internal_error', undefined, { detail: 'the intermediate CA has expired' });
    if (!issuer.signer) throw new GatehouseError('internal_error', undefined, { detail: 'the intermediate CA key is offline' });
    const identity = identityParts(request);
    const serial = randomSerial();
    // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
    const subjectKeyId = createHash('sha1').update(new Uint8Array(request.publicKeyInfo.subjectPublicKey)).digest();
    const tbs = new asn1.TBSCertificate({
      version: asn1.Version.v3,
      serialNumber: new Uint8Array(Buffer.from(serial, 'hex')).buffer,
      signature: algorithm,
      issuer: issuerName,
      validity: validity(notBefore, notAfter),
      subject: identity.subject,
      subjectPublicKeyInfo: request.spkiDer ? encoded<asn1.SubjectPublicKeyInfo>(request.spkiDer) : request.publicKeyInfo,
      extensions: new asn1.Extensions([
        ...constant,
        identity.subjectAltName,
        new asn1.Extension({ extnID: '2.5.29.14', critical: false, extnValue: new OctetString(AsnConvert.serialize(new OctetString(subjectKeyId))) }),
        authorityKeyId,
      ]),
    });
    const tbsDer = AsnConvert.serialize(tbs);
    // DER-encoded (r, s), node:crypto's default. The key goes in bare: Node 24 tells an options
    // object from a KeyObject by catching exceptions, which cost more than the signature.
    const signature = sign(nodeHash, new Uint8Array(tbsDer), issuer.signer);
    const certDer = new Uint8Array(AsnConvert.serialize(new asn1.Certificate({ tbsCertificate: encoded<asn1.TBSCertificate>(tbsDer), signatureAlgorithm: algorithm, signatureValue: new Uint8Array(signature).buffer })));
    const pem = x509.PemConverter.encode(certDer, 'CERTIFICATE') + '\n';
    return { der: certDer.buffer.slice(certDer.byteOffset, certDer.byteOffset + certDer.byteLength) as ArrayBuffer, serial, spiffeId: identity.spiffeId, notBefore, notAfter, pem, chainPem: pem + issuer.pem, issuerId: issuer.id };
  };
}

/** Distinct identities (service + granted names) whose encoded parts are kept. */
const IDENTITY_CACHE_SIZE = 1024;

interface IdentityParts {
  spiffeId: string;
  /** CN=<service>, O=<trust domain>, encoded. */
  subject: asn1.Name;
  /** The SPIFFE ID, then the granted DNS names and IPs, encoded. */
  subjectAltName: asn1.Extension;
}

/**
 * The subject and subjectAltName of a leaf depend only on the service and the names granted to
 * it, and the same few services ask again and again (every renewal): encoding them took a third
 * of a leaf's serialization, so they are encoded once per identity and kept, a bounded number
 * of them.
 */
function identityPartsCache(trustDomain: string): (request: Pick<LeafRequest, 'service' | 'dns' | 'ips'>) => IdentityParts {
  const cache = boundedMemo<string, IdentityParts>(IDENTITY_CACHE_SIZE);
  return ({ service, dns, ips }) => cache.get(JSON.stringify([service, dns, ips]), () => {
    const spiffeId = spiffeIdFor(trustDomain, service);
    const names = new asn1.GeneralNames([
      new asn1.GeneralName({ uniformResourceIdentifier: spiffeId }),
      ...dns.map((dNSName) => new asn1.GeneralName({ dNSName })),
      ...ips.map((iPAddress) => new asn1.GeneralName({ iPAddress })),
    ]);
    const subject = new asn1.Name([
      new asn1.RelativeDistinguishedName([new asn1.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1.AttributeValue({ utf8String: service }) })]),
      new asn1.RelativeDistinguishedName([new asn1.AttributeTypeAndValue({ type: '2.5.4.10', value: new asn1.AttributeValue({ utf8String: trustDomain }) })]),
    ]);
    const subjectAltName = new asn1.Extension({ extnID: '2.5.29.17', critical: false, extnValue: new OctetString(AsnConvert.serialize(names)) });
    return { spiffeId, subject: encoded<asn1.Name>(AsnConvert.serialize(subject)), subjectAltName: encoded<asn1.Extension>(AsnConvert.serialize(subjectAltName)) };
  });
}
