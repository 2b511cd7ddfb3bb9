/**
 * The certificate authority proper: a root and an intermediate (ECDSA P-256 via @peculiar/x509 on
 * WebCrypto), their keys sealed at rest under the master key, and the one signing path for
 * leaves (./leaf-signer.ts). It signs what it is told: who may ask for what is decided by the provisioners and
 * ./csr.ts before anything reaches `signLeaf` (smallstep's split: authorize returns constraints,
 * the authority applies them).
 */
import { webcrypto, createPrivateKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1 from '@peculiar/asn1-x509';
import { x509, crlToPem, randomSerial, fingerprintSha256, certificatesToPem, privateKeyToPem, signingAlgorithmFor, importEcPrivateKey, type CryptoKey, type CryptoKeyPair } from '../x509/index.ts';
import { seal, unseal } from '../shared/sealed.ts';
import { GatehouseError } from '../shared/errors.ts';
import { caKeyContext, type Executor } from '../store/index.ts';
import { insertCaCertificate, saveCrl, trustedCaCertificates, everyCaCertificatePem, type CaKind } from './repository.ts';
import { spkiSha256 } from './csr.ts';
import { crlNumberOf } from './crl.ts';
import { BACKDATE_SECONDS, leafSigner } from './leaf-signer.ts';
import type { CaCertificateRow } from '../store/index.ts';

export interface CaMaterial {
  id: string;
  kind: CaKind;
  status: 'active' | 'next' | 'retired';
  /** Intermediates: the id of the root that signed it. */
  parentId: string | null;
  cert: x509.X509Certificate;
  pem: string;
  /** Undefined when the key is offline (root after `ca init --offline-root`). */
  key: CryptoKey | undefined;
  /** Subject key identifier (hex), used as the AKI of what this CA signs. */
  keyId: string;
  /** The signing key as a node:crypto KeyObject (the leaf hot path signs with node:crypto). */
  signer: KeyObject | undefined;
}

export interface Authority {
  trustDomain: string;
  /** The active root and intermediate: new leaves come from this chain. */
  root: CaMaterial;
  intermediate: CaMaterial;
  /** The chain published ahead of a root rotation (`ca rotate --prepare`), until `--activate`. */
  next: { root: CaMaterial; intermediate: CaMaterial } | undefined;
  /** Every CA still trusted (active first, then next, then retired ones whose leaves are still valid). */
  trusted: CaMaterial[];
  /** Roots a peer must trust: active, next (during a rotation) and retired until their leaves expire. */
  bundlePem: string;
  /** The intermediates of `trusted`: the issuers of the intermediate CRLs. */
  intermediatesPem: string;
  rootFingerprint: string;
  /** The CA rows this was loaded from (repository caStateKey): another value means reload. */
  stateKey: string;
  /** SHA-256 of the SubjectPublicKeyInfo of every CA key this store ever had: never certified as a leaf. */
  caKeys: ReadonlySet<string>;
  signLeaf(request: LeafRequest): Promise<SignedLeaf>;
}

export interface LeafRequest {
  publicKeyInfo: asn1.SubjectPublicKeyInfo;
  /** The same key, DER-encoded, when the caller has it already (saves encoding it again). */
  spkiDer?: ArrayBuffer | undefined;
  service: string;
  dns: string[];
  ips: string[];
  ttlSeconds: number;
}

export interface SignedLeaf {
  der: ArrayBuffer;
  serial: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  /** Leaf PEM. */
  pem: string;
  /** Leaf + intermediate PEM: what the workload presents. */
  chainPem: string;
  /** ca_certificates.id of the intermediate that signed it. */
  issuerId: string;
}

export interface AuthorityDeps {
  db: Executor;
  masterKey: Buffer;
  trustDomain: string;
  rootTtl: number;
  intermediateTtl: number;
  now: () => number;
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function keyId(publicKey: x509.PublicKeyType): Promise<string> {
  const ext = await x509.SubjectKeyIdentifierExtension.create(publicKey);
  return ext.keyId;
}

async function material(deps: AuthorityDeps, row: CaCertificateRow): Promise<CaMaterial> {
  const cert = new x509.X509Certificate(row.cert_pem);
  const keyPem = row.key_enc === null ? undefined : unseal(deps.masterKey, row.key_enc, caKeyContext(row.id));
  const key = keyPem === undefined ? undefined : await importEcPrivateKey(keyPem);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return { id: row.id, kind: row.kind, status: row.status, parentId: row.parent_id, cert, pem: certificatesToPem([cert]), key, keyId: ski?.keyId ?? (await keyId(cert.publicKey)), signer: keyPem === undefined ? undefined : createPrivateKey(keyPem) };
}

const STATUS_ORDER = { active: 0, next: 1, retired: 2 } as const;

/** Loads every CA still trusted; undefined when the CA was never initialized. */
export async function loadAuthority(deps: AuthorityDeps, stateKey: string): Promise<Authority | undefined> {
  const rows = (await trustedCaCertificates(deps.db)).sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (a.kind === b.kind ? 0 : a.kind === 'root' ? -1 : 1));
  const rootRow = rows.find((r) => r.kind === 'root' && r.status === 'active');
  const intermediateRow = rows.find((r) => r.kind === 'intermediate' && r.status === 'active');
  if (!rootRow || !intermediateRow) return undefined;
  if (!intermediateRow.key_enc) throw new Error('the intermediate CA key is missing: re-import it with `gatehouse ca init --import-…`');
  const trusted = await Promise.all(rows.map((row) => material(deps, row)));
  const find = (kind: CaKind, status: 'active' | 'next') => trusted.find((m) => m.kind === kind && m.status === status);
  const root = find('root', 'active')!;
  const intermediate = find('intermediate', 'active')!;
  const nextRoot = find('root', 'next');
  const nextIntermediate = find('intermediate', 'next');
  return {
    trustDomain: deps.trustDomain,
    root,
    intermediate,
    next: nextRoot && nextIntermediate ? { root: nextRoot, intermediate: nextIntermediate } : undefined,
    trusted,
    bundlePem: certificatesToPem(trusted.filter((m) => m.kind === 'root').map((m) => m.cert)),
    intermediatesPem: certificatesToPem(trusted.filter((m) => m.kind === 'intermediate').map((m) => m.cert)),
    rootFingerprint: fingerprintSha256(root.cert),
    stateKey,
    caKeys: new Set((await everyCaCertificatePem(deps.db)).map((pem) => spkiSha256(AsnConvert.parse(new x509.X509Certificate(pem).publicKey.rawData, asn1.SubjectPublicKeyInfo)))),
    signLeaf: leafSigner(intermediate, deps),
  };
}

function caExtensions(pathLength: number, ski: x509.Extension, aki?: x509.Extension): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ski,
    ...(aki ? [aki] : []),
  ];
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

function newId(kind: CaKind): string {
  return `${kind}-${Buffer.from(webcrypto.getRandomValues(new Uint8Array(6))).toString('hex')}`;
}

type NewStatus = 'active' | 'next';

async function createRoot(deps: AuthorityDeps, id: string, now: number): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Gatehouse Root CA ${id.slice(5)}`] }, { O: [deps.trustDomain] }],
    notBefore: new Date((now - BACKDATE_SECONDS) * 1000),
    notAfter: new Date((now + deps.rootTtl) * 1000),
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: caExtensions(1, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)),
  });
  return { cert, keys };
}

/** An intermediate signed by `root` (key online), never outliving it. */
async function createIntermediate(deps: AuthorityDeps, id: string, root: { cert: x509.X509Certificate; key: CryptoKey }, now: number): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [`Gatehouse Intermediate CA ${id.slice(13)}`] }, { O: [deps.trustDomain] }],
    issuer: root.cert.subjectName,
    notBefore: new Date((now - BACKDATE_SECONDS) * 1000),
    notAfter: new Date(Math.min(now + deps.intermediateTtl, Math.floor(root.cert.notAfter.getTime() / 1000)) * 1000),
    publicKey: keys.publicKey,
    signingKey: root.key,
    signingAlgorithm: signingAlgorithmFor(root.key),
    extensions: caExtensions(0, await x509.SubjectKeyIdentifierExtension.create(keys.publicKey), await x509.AuthorityKeyIdentifierExtension.create(root.cert.publicKey)),
  });
  return { cert, keys };
}

/** Creates a fresh root + intermediate and stores them (keys sealed): `active` at init, `next` for a rotation. */
export async function generateAuthority(deps: AuthorityDeps, status: NewStatus = 'active'): Promise<{ rootId: string; intermediateId: string }> {
  const now = Math.floor(deps.now() / 1000);
  const rootId = newId('root');
  const intermediateId = newId('intermediate');
  const root = await createRoot(deps, rootId, now);
  const intermediate = await createIntermediate(deps, intermediateId, { cert: root.cert, key: root.keys.privateKey }, now);
  await storeCa(deps, { id: rootId, kind: 'root', status, parentId: null }, root.cert, await privateKeyToPem(root.keys.privateKey), now);
  await storeCa(deps, { id: intermediateId, kind: 'intermediate', status, parentId: rootId }, intermediate.cert, await privateKeyToPem(intermediate.keys.privateKey), now);
  return { rootId, intermediateId };
}

/** A new intermediate under `root` (its key must be online), stored with `status`. */
export async function generateIntermediate(deps: AuthorityDeps, root: CaMaterial, status: NewStatus): Promise<string> {
  if (!root.key) throw new GatehouseError('conflict', 'The root key is offline: an intermediate cannot be signed here (rotate the root instead: `gatehouse ca rotate --prepare` creates a new root and intermediate)');
  const now = Math.floor(deps.now() / 1000);
  const id = newId('intermediate');
  const intermediate = await createIntermediate(deps, id, { cert: root.cert, key: root.key }, now);
  await storeCa(deps, { id, kind: 'intermediate', status, parentId: root.id }, intermediate.cert, await privateKeyToPem(intermediate.keys.privateKey), now);
  return id;
}

async function storeCa(deps: AuthorityDeps, row: { id: string; kind: CaKind; status: NewStatus; parentId: string | null }, cert: x509.X509Certificate, keyPem: string | undefined, now: number): Promise<void> {
  await insertCaCertificate(deps.db, {
    id: row.id,
    kind: row.kind,
    status: row.status,
    parent_id: row.parentId,
    retired_at: null,
    dropped_at: null,
    cert_pem: certificatesToPem([cert]),
    key_enc: keyPem === undefined ? null : seal(deps.masterKey, keyPem, caKeyContext(row.id)),
    not_after: Math.floor(cert.notAfter.getTime() / 1000),
    created_at: now,
  });
}

export interface ImportRequest {
  rootPem: string;
  rootKeyPem?: string | undefined;
  intermediatePem: string;
  intermediateKeyPem: string;
  /** The root's current CRL (PEM or DER); required when the root key stays offline (no `rootKeyPem`). */
  rootCrl?: string | Uint8Array | undefined;
}

const invalidImport = (description: string) => new GatehouseError('invalid_request', description);

async function keyMatches(key: CryptoKey, cert: x509.X509Certificate): Promise<boolean> {
  const data = webcrypto.getRandomValues(new Uint8Array(32));
  const algorithm = signingAlgorithmFor(key);
  const signature = await webcrypto.subtle.sign(algorithm, key, data);
  const publicKey = (await cert.publicKey.export()) as unknown as CryptoKey;
  return webcrypto.subtle.verify(algorithm, publicKey, signature, data);
}

/** A root CRL to import: signed by that root, current (nextUpdate ahead, if any). */
async function checkedRootCrl(input: string | Uint8Array, root: x509.X509Certificate, now: number): Promise<x509.X509Crl> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(typeof input === 'string' ? x509.PemConverter.decodeFirst(input) : input);
  } catch {
    throw invalidImport('The root CRL must be a PEM or DER CRL');
  }
  if (crl.issuer !== root.subject || !(await crl.verify({ publicKey: root.publicKey }))) throw invalidImport('The root CRL is not signed by the imported root');
  if (crl.nextUpdate && crl.nextUpdate.getTime() / 1000 <= now) throw invalidImport(`The root CRL expired at ${crl.nextUpdate.toISOString()}: sign a new one with the root key`);
  return crl;
}

/** Imports an existing root (key optional: it may stay offline) and intermediate (key required). */
export async function importAuthority(deps: AuthorityDeps, request: ImportRequest): Promise<{ rootId: string; intermediateId: string }> {
  const now = Math.floor(deps.now() / 1000);
  let root: x509.X509Certificate;
  let intermediate: x509.X509Certificate;
  try {
    root = new x509.X509Certificate(request.rootPem);
    intermediate = new x509.X509Certificate(request.intermediatePem);
  } catch {
    throw invalidImport('the root and intermediate must be PEM certificates');
  }
  if (!root.getExtension(x509.BasicConstraintsExtension)?.ca || !(await root.isSelfSigned())) throw invalidImport('the root must be a self-signed CA certificate');
  if (!intermediate.getExtension(x509.BasicConstraintsExtension)?.ca) throw invalidImport('the intermediate must be a CA certificate (basicConstraints cA=true)');
  if (!(await intermediate.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw invalidImport('the intermediate is not signed by the root');
  if (intermediate.notAfter.getTime() <= deps.now()) throw invalidImport('the intermediate has expired');
  const intermediateKey = await importEcPrivateKey(request.intermediateKeyPem, true).catch((e: Error) => { throw invalidImport(`intermediate key: ${e.message}`); });
  if (!(await keyMatches(intermediateKey, intermediate))) throw invalidImport('the intermediate key does not match the intermediate certificate');
  if (request.rootKeyPem !== undefined) {
    const rootKey = await importEcPrivateKey(request.rootKeyPem, true).catch((e: Error) => { throw invalidImport(`root key: ${e.message}`); });
    if (!(await keyMatches(rootKey, root))) throw invalidImport('the root key does not match the root certificate');
  }
  if (request.rootKeyPem === undefined && request.rootCrl === undefined) {
    throw invalidImport('Without the root key the root stays offline and can never sign its CRL, which every workload loads: give the root\'s current CRL (--root-crl)');
  }
  const rootCrl = request.rootCrl === undefined ? undefined : await checkedRootCrl(request.rootCrl, root, now);
  const rootId = newId('root');
  const intermediateId = newId('intermediate');
  await storeCa(deps, { id: rootId, kind: 'root', status: 'active', parentId: null }, root, request.rootKeyPem, now);
  if (rootCrl) {
    const nextUpdate = Math.floor((rootCrl.nextUpdate ?? root.notAfter).getTime() / 1000);
    await saveCrl(deps.db, { ca_id: rootId, crl_number: crlNumberOf(rootCrl) ?? 0, crl_pem: crlToPem(rootCrl), this_update: Math.floor(rootCrl.thisUpdate.getTime() / 1000), next_update: nextUpdate });
  }
  await storeCa(deps, { id: intermediateId, kind: 'intermediate', status: 'active', parentId: rootId }, intermediate, await privateKeyToPem(intermediateKey), now);
  return { rootId, intermediateId };
}
