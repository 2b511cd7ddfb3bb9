/**
 * The issuing flows: enrollment (join token), renewal (mTLS) and direct issue (CLI). Each one
 * runs "authorize → check the CSR against the grant → sign → record → audit" with the token
 * consumption, the certificate row and the audit entry in ONE transaction. Refusals are
 * returned out of the transaction as values and thrown after it commits (so a burned token
 * stays burned and the refusal's audit entry lands), never half-issued.
 */
import type { TLSSocket } from 'node:tls';
import { GatehouseError, isGatehouseError } from '../shared/errors.ts';
import type { AuditEntry, AuditLog } from '../events/audit.ts';
import type { Executor, Store } from '../store/index.ts';
import type { Authority, SignedLeaf } from './authority.ts';
import { authorizeNames, parseCsr, type NamePolicy, type ParsedCsr } from './csr.ts';
import { keyRefusal, keyNotAllowed } from './key-reuse.ts';
import type { IssuanceStatements } from './repository.ts';
import { isReservedService } from '../x509/index.ts';
import { redeemJoinToken } from './provisioners/join-token.ts';
import { authorizeRenewal } from './provisioners/mtls-renewal.ts';

export interface IssuanceDeps {
  store: Store;
  /** The certificate statements, compiled once for `store`. */
  statements: IssuanceStatements;
  audit: AuditLog;
  authority: () => Promise<Authority>;
  limits: { leafTtl: number; maxLeafTtl: number; /** pki.renewalGrace, seconds. */ renewalGrace?: number };
  /** Which DNS/IP SANs a workload may have (pki.dnsSuffixes, pki.allowLoopbackNames, pki.serverNames), compiled. */
  names: NamePolicy;
  now: () => number;
}

export interface IssuedCertificate {
  serial: string;
  service: string;
  spiffeId: string;
  notBefore: number;
  notAfter: number;
  /** Leaf + intermediate, PEM. */
  certificate: string;
}

/** Shortest lifetime a request may ask for (tests and demos use a few seconds). */
export const MIN_LEAF_TTL = 5;

/** Lifetime: the configured default, or shorter if asked; never above maxLeafTtl. */
export function leafTtl(limits: { leafTtl: number; maxLeafTtl: number }, requested: number | undefined): number {
  if (requested === undefined) return Math.min(limits.leafTtl, limits.maxLeafTtl);
  if (!Number.isInteger(requested) || requested < MIN_LEAF_TTL) throw new GatehouseError('invalid_request', `The certificate lifetime must be at least ${MIN_LEAF_TTL} seconds, received ${requested}`);
  return Math.min(requested, limits.maxLeafTtl);
}

async function record(deps: IssuanceDeps, trx: Executor, leaf: SignedLeaf, service: string, names: { dns: string[]; ips: string[] }, requestedBy: string, now: number, spkiSha256: string): Promise<void> {
  await deps.statements.insertCertificate(trx, {
    serial: leaf.serial,
    service,
    spiffe_id: leaf.spiffeId,
    sans: JSON.stringify(names),
    not_before: leaf.notBefore,
    not_after: leaf.notAfter,
    requested_by: requestedBy,
    status: 'valid',
    revoked_at: null,
    revocation_reason: null,
    cert_pem: leaf.pem,
    created_at: now,
    issuer_id: leaf.issuerId,
    spki_sha256: spkiSha256,
  });
}

function issued(leaf: SignedLeaf, service: string): IssuedCertificate {
  return { serial: leaf.serial, service, spiffeId: leaf.spiffeId, notBefore: leaf.notBefore, notAfter: leaf.notAfter, certificate: leaf.chainPem };
}

type Outcome = { ok: true; result: IssuedCertificate } | { ok: false; error: GatehouseError };

/** Parses the CSR outside any transaction; a bad CSR becomes a value, not a throw. */
async function tryParse(csr: unknown): Promise<ParsedCsr | GatehouseError> {
  try {
    return await parseCsr(csr);
  } catch (error) {
    if (isGatehouseError(error)) return error;
    throw error;
  }
}

/** The CA's own identity is never granted to a workload, whatever credential asks for it. */
function reservedRefusal(service: string): GatehouseError {
  return new GatehouseError('identity_not_allowed', `The service name ${service} is reserved for the CA itself`);
}

function grantNames(csr: ParsedCsr | GatehouseError, grant: { trustDomain: string; service: string }, policy: NamePolicy): { dns: string[]; ips: string[] } | GatehouseError {
  if (isReservedService(grant.service)) return reservedRefusal(grant.service);
  if (isGatehouseError(csr)) return csr;
  try {
    return authorizeNames(csr, grant, policy);
  } catch (error) {
    if (isGatehouseError(error)) return error;
    throw error;
  }
}

/** What a provisioner decided inside the issuing transaction: a grant, or a refusal to audit. */
type Authorization =
  | { ok: true; service: string; requestedBy: string; issuedAudit: (leaf: SignedLeaf, names: GrantedNames) => AuditEntry }
  | { ok: false; refusal: Omit<AuditEntry, 'event' | 'ip'>; error: GatehouseError };

type GrantedNames = { dns: string[]; ips: string[] };

/**
 * The flow both provisioners share: authorize (in the transaction, so a token is burned with the
 * refusal's audit entry) → check the CSR's names against the grant → sign → record → audit.
 */
async function issueUnderGrant(
  deps: IssuanceDeps,
  request: { csr: unknown; ttl?: number | undefined; ip?: string | undefined },
  flow: 'enroll' | 'renew',
  authorize: (trx: Executor, authority: Authority, now: number) => Promise<Authorization>,
): Promise<IssuedCertificate> {
  const authority = await deps.authority();
  const ttl = leafTtl(deps.limits, request.ttl);
  const csr = await tryParse(request.csr);
  const now = Math.floor(deps.now() / 1000);
  const ip = request.ip ?? null;
  const outcome = await deps.store.transaction(async (trx): Promise<Outcome> => {
    const grant = await authorize(trx, authority, now);
    if (!grant.ok) {
      await deps.audit.record({ event: 'enrollment.refused', ip, ...grant.refusal }, trx);
      return { ok: false, error: grant.error };
    }
    const names = grantNames(csr, { trustDomain: authority.trustDomain, service: grant.service }, deps.names);
    if (isGatehouseError(names)) {
      await deps.audit.record({ event: 'enrollment.refused', actor: grant.requestedBy, subject: grant.service, ip, reason: names.code, data: { flow, detail: names.description } }, trx);
      return { ok: false, error: names };
    }
    const parsed = csr as ParsedCsr;
    const keyProblem = await keyRefusal(trx, deps.statements, authority.caKeys, parsed.spkiSha256, grant.service);
    if (keyProblem) {
      await deps.audit.record({ event: 'enrollment.refused', actor: grant.requestedBy, subject: grant.service, ip, reason: keyProblem.reason, data: { flow, detail: keyProblem.detail, spkiSha256: parsed.spkiSha256 } }, trx);
      return { ok: false, error: keyNotAllowed(keyProblem.reason, keyProblem.detail) };
    }
    const leaf = await authority.signLeaf({ publicKeyInfo: parsed.publicKeyInfo, spkiDer: parsed.spkiDer, service: grant.service, ...names, ttlSeconds: ttl });
    await record(deps, trx, leaf, grant.service, names, grant.requestedBy, now, parsed.spkiSha256);
    await deps.audit.record({ ...grant.issuedAudit(leaf, names), ip }, trx);
    return { ok: true, result: issued(leaf, grant.service) };
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

export function enroll(deps: IssuanceDeps, request: { token: string; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate> {
  return issueUnderGrant(deps, request, 'enroll', async (trx, _authority, now) => {
    const grant = await redeemJoinToken(trx, request.token, now);
    if (!grant.ok) {
      return {
        ok: false,
        refusal: { actor: grant.tokenId ? `join-token:${grant.tokenId}` : null, subject: grant.service ?? null, reason: grant.reason, data: { flow: 'enroll' } },
        error: new GatehouseError('invalid_join_token', undefined, { detail: grant.reason }),
      };
    }
    return {
      ok: true,
      service: grant.service,
      requestedBy: grant.requestedBy,
      issuedAudit: (leaf, names) => ({ event: 'cert.issued', actor: grant.requestedBy, subject: leaf.serial, data: { service: grant.service, spiffeId: leaf.spiffeId, notAfter: leaf.notAfter, dns: names.dns, ips: names.ips } }),
    };
  });
}

export function renew(deps: IssuanceDeps, request: { socket: TLSSocket; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate> {
  return issueUnderGrant(deps, request, 'renew', async (trx, authority) => {
    const grant = await authorizeRenewal(trx, request.socket, authority, deps.now(), (deps.limits.renewalGrace ?? 0) * 1000);
    if (!grant.ok) {
      return {
        ok: false,
        refusal: { actor: grant.serial ? `renewal:${grant.serial}` : null, subject: grant.service ?? null, reason: grant.reason, data: { flow: 'renew', detail: grant.detail } },
        // The reason is about the caller's own certificate: the SDK re-enrolls on `expired` / `unknown_certificate`.
        error: new GatehouseError('certificate_rejected', undefined, { detail: `${grant.reason}: ${grant.detail}`, extensions: { reason: grant.reason } }),
      };
    }
    return {
      ok: true,
      service: grant.service,
      requestedBy: grant.requestedBy,
      issuedAudit: (leaf) => ({ event: 'cert.renewed', actor: grant.requestedBy, subject: leaf.serial, data: { service: grant.service, previous: grant.serial, notAfter: leaf.notAfter, ...(grant.expiredFor ? { expiredFor: grant.expiredFor } : {}) } }),
    };
  });
}

/** Direct issue by an operator (`gatehouse ca issue`) or by the service for its own TLS listener. */
export async function issueDirect(deps: IssuanceDeps, request: { csr: unknown; service: string; ttl?: number | undefined; actor: string }): Promise<IssuedCertificate> {
  if (isReservedService(request.service)) throw reservedRefusal(request.service);
  const authority = await deps.authority();
  const ttl = leafTtl(deps.limits, request.ttl);
  const csr = await parseCsr(request.csr);
  const names = authorizeNames(csr, { trustDomain: authority.trustDomain, service: request.service }, deps.names);
  return signAndRecord(deps, authority, csr, request.service, names, ttl, request.actor);
}

/**
 * Signs a leaf for a key without a grant flow: a CSR an operator gave (`ca issue`), or a key the
 * service holds itself (its TLS listener; the name policy is ours to choose). The key rules
 * apply the same (./key-reuse.ts): a refusal throws `key_not_allowed`.
 */
export async function signAndRecord(deps: IssuanceDeps, authority: Authority, key: Pick<ParsedCsr, 'publicKeyInfo' | 'spkiSha256'> & { spkiDer?: ArrayBuffer | undefined }, service: string, names: GrantedNames, ttl: number, actor: string): Promise<IssuedCertificate> {
  const now = Math.floor(deps.now() / 1000);
  return deps.store.transaction(async (trx) => {
    const keyProblem = await keyRefusal(trx, deps.statements, authority.caKeys, key.spkiSha256, service);
    if (keyProblem) throw keyNotAllowed(keyProblem.reason, keyProblem.detail);
    const leaf = await authority.signLeaf({ publicKeyInfo: key.publicKeyInfo, spkiDer: key.spkiDer, service, ...names, ttlSeconds: ttl });
    await record(deps, trx, leaf, service, names, actor, now, key.spkiSha256);
    await deps.audit.record({ event: 'cert.issued', actor, subject: leaf.serial, data: { service, spiffeId: leaf.spiffeId, notAfter: leaf.notAfter, dns: names.dns, ips: names.ips } }, trx);
    return issued(leaf, service);
  });
}
