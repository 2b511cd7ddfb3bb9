/**
 * The internal CA as one component: `createPki(deps)` wires the authority, the provisioners
 * (join token, mTLS renewal), issuance, revocation and CRLs over the store. Routes live in
 * ./api.ts, the TLS listener in ./tls-listener.ts.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/index.ts';
import { isUniqueViolation, caKeyContext, type Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus } from '../events/types.ts';
import type { Logger } from '../shared/logger.ts';
import type { Clock } from '../shared/clock.ts';
import { GatehouseError } from '../shared/errors.ts';
import { privateKeyToPem, importEcPrivateKey, fingerprintSha256, type CryptoKey } from '../x509/index.ts';
import { unseal } from '../shared/sealed.ts';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { generateAuthority, importAuthority, loadAuthority, type Authority, type AuthorityDeps, type ImportRequest } from './authority.ts';
import { enroll, renew, issueDirect, signAndRecord, leafTtl, type IssuanceDeps, type IssuedCertificate } from './issuance.ts';
import { namePolicy, spkiSha256 } from './csr.ts';
import { mintJoinToken, type MintedJoinToken } from './provisioners/join-token.ts';
import { revoke, type RevokeRequest, type RevokeResult } from './revocation.ts';
import { crlDocument, refreshCrls, signCrl } from './crl.ts';
import { rotate, pruneRetired, type RotationPhase, type RotationResult } from './rotation.ts';
import { activeCaCertificate, caStateKey, clearCaKey, findCrl, issuanceStatements, listCertificates, type CaKind } from './repository.ts';
import type { CertificateRow } from '../store/index.ts';

export { createPkiTlsListener, type PkiTlsListener } from './tls-listener.ts';
export { registerPkiRoutes } from './api.ts';
export { parseJoinToken } from './provisioners/join-token.ts';
export { crlNumberOf, REVOCATION_REASONS } from './crl.ts';
export type { IssuedCertificate, MintedJoinToken, RevokeResult, Authority, RotationPhase, RotationResult };
export { RESERVED_SERVICE } from '../x509/index.ts';

export interface PkiDeps {
  store: Store;
  audit: AuditLog;
  config: Config['pki'];
  masterKey: Buffer;
  clock: Clock;
  logger: Logger;
  /** Receives `certificate.revoked`; optional so the CA works (and is tested) without a bus. */
  events?: EventBus | undefined;
}

export interface ServerCredentials {
  key: string;
  cert: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

export interface CaSummary {
  id: string;
  kind: CaKind;
  status: 'active' | 'next' | 'retired';
  subject: string;
  fingerprint: string;
  notAfter: string;
  keyOnline: boolean;
}

export interface CaStatus {
  initialized: boolean;
  trustDomain: string;
  root?: { id: string; subject: string; fingerprint: string; notAfter: string; keyOnline: boolean };
  intermediate?: { id: string; subject: string; notAfter: string };
  /** Every CA still trusted: active, next (rotation prepared), retired (leaves under it still valid). */
  cas: CaSummary[];
  bundleRoots: number;
  crls: Array<{ issuer: CaKind; ca: string; number: number; thisUpdate: number; nextUpdate: number }>;
  certificates: { valid: number; revoked: number };
}

export interface CrlDocument {
  /** The CRLs of every trusted CA of that kind, active first, concatenated PEM. */
  pem: string;
  /** cRLNumber / dates of the active CA's CRL. */
  number: number;
  thisUpdate: number;
  nextUpdate: number;
}

export interface Pki {
  /** Creates root + intermediate if there are none (first start, `ca init`). */
  ensureInitialized(actor?: string): Promise<{ created: boolean; authority: Authority }>;
  /** The CA as loaded; re-read when the CA rows changed (checked every pki.caCheckInterval, or now with `fresh`). */
  authority(options?: { fresh?: boolean }): Promise<Authority>;
  /** ms between checks for CA rows changed by another process (pki.caCheckInterval). */
  readonly checkIntervalMs: number;
  status(): Promise<CaStatus>;
  importAuthority(request: ImportRequest, actor: string): Promise<Authority>;
  /**
   * Hands the root key (PEM) to `keep` (which must store it durably, e.g. write and fsync a
   * file), and only once that succeeded signs a last long-lived root CRL and removes the key from
   * the store. A failing `keep` changes nothing: the root is never lost between the two.
   */
  takeRootOffline(actor: string, keep: (pem: string) => Promise<void> | void): Promise<void>;
  /** One phase of a CA rotation (./rotation.ts). */
  rotate(phase: RotationPhase, actor: string): Promise<RotationResult>;
  mintJoinToken(request: { service: string; ttlSeconds?: number | undefined; createdBy: string }): Promise<MintedJoinToken>;
  enroll(request: { token: string; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate>;
  renew(request: { socket: TLSSocket; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate>;
  issue(request: { csr: unknown; service: string; ttl?: number | undefined; actor: string }): Promise<IssuedCertificate>;
  /** Key + certificate for a service the CA runs itself (its TLS listener), generated here. */
  issueOwn(service: string, names: string[], actor: string): Promise<ServerCredentials>;
  revoke(request: RevokeRequest): Promise<RevokeResult>;
  list(filter: { service?: string | undefined; status?: 'valid' | 'revoked' | undefined; limit?: number }): Promise<CertificateRow[]>;
  /** The CRLs of every trusted CA of `kind` (signed on demand where one is missing). */
  crl(kind: CaKind): Promise<CrlDocument>;
  /** Re-signs due CRLs of every trusted CA whose key is online, after dropping retired CAs no longer needed. */
  refreshCrls(force?: boolean): Promise<CaKind[]>;
}

export function createPki(deps: PkiDeps): Pki {
  const { store, config } = deps;
  const now = () => deps.clock.now();
  const seconds = () => Math.floor(now() / 1000);
  const checkIntervalMs = config.caCheckInterval * 1000;
  const authorityDeps = (db = store.db as AuthorityDeps['db']): AuthorityDeps => ({
    db,
    masterKey: deps.masterKey,
    trustDomain: config.trustDomain,
    rootTtl: config.rootTtl,
    intermediateTtl: config.intermediateTtl,
    now,
  });
  let cached: { authority: Promise<Authority>; checkedAt: number } | undefined;
  let checking: Promise<void> | undefined;

  const load = async (): Promise<Authority> => {
    const a = await loadAuthority(authorityDeps(), await caStateKey(store.db));
    if (!a) throw new GatehouseError('not_found', 'The CA is not initialized: run `gatehouse ca init` (or start the service once)');
    return a;
  };

  /** Drops the cached authority when the CA rows changed (a rotation or `--offline-root` by another process). */
  async function recheck(entry: NonNullable<typeof cached>): Promise<void> {
    const key = await caStateKey(store.db);
    const loaded = await entry.authority.catch(() => undefined);
    if (cached !== entry) return;
    if (!loaded || loaded.stateKey !== key) cached = undefined;
    else entry.checkedAt = now();
  }

  async function authority(options: { fresh?: boolean } = {}): Promise<Authority> {
    const entry = cached;
    if (entry && (options.fresh || now() - entry.checkedAt >= checkIntervalMs)) {
      checking ??= recheck(entry).finally(() => { checking = undefined; });
      await checking;
    }
    const current = (cached ??= { authority: load(), checkedAt: now() });
    try {
      return await current.authority;
    } catch (error) {
      if (cached === current) cached = undefined;
      throw error;
    }
  }

  const names = namePolicy(config);
  const issuanceDeps: IssuanceDeps = { store, statements: issuanceStatements(store.db), audit: deps.audit, authority, limits: config, names, now };

  async function refresh(force: boolean): Promise<CaKind[]> {
    let a = await authority({ fresh: true });
    const dropped = await store.transaction(async (trx) => {
      const ids = await pruneRetired(trx, a, seconds());
      for (const id of ids) await deps.audit.record({ event: 'ca.rotated', actor: 'system', subject: id, data: { phase: 'drop' } }, trx);
      return ids;
    });
    if (dropped.length > 0) {
      deps.logger.info({ dropped }, 'retired CAs dropped from the trust bundle: every leaf under them has expired');
      a = await authority({ fresh: true });
    }
    return refreshCrls(store.db, a.trusted, { now: seconds(), crlTtl: config.crlTtl, force });
  }

  return {
    authority,
    checkIntervalMs,
    async ensureInitialized(actor = 'system') {
      if (await activeCaCertificate(store.db, 'root')) return { created: false, authority: await authority() };
      const ids = await store.transaction(async (trx) => {
        // Re-check inside the transaction: two processes starting at once create one CA.
        if (await activeCaCertificate(trx, 'root')) return undefined;
        const created = await generateAuthority(authorityDeps(trx));
        await deps.audit.record({ event: 'ca.initialized', actor, subject: created.rootId, data: { intermediate: created.intermediateId, mode: 'generated' } }, trx);
        return created;
      }).catch((error: unknown) => {
        // PostgreSQL (read committed) lets both see no root: the one-active-root index refuses
        // the second, which then uses the CA the first created.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      });
      const loaded = await authority({ fresh: true });
      await refreshCrls(store.db, loaded.trusted, { now: seconds(), crlTtl: config.crlTtl, force: ids !== undefined });
      return { created: ids !== undefined, authority: loaded };
    },
    async status() {
      const initialized = (await activeCaCertificate(store.db, 'root')) !== undefined;
      if (initialized) await refresh(false);
      const a = initialized ? await authority({ fresh: true }) : undefined;
      const crls = [];
      for (const ca of a?.trusted ?? []) {
        const row = await findCrl(store.db, ca.id);
        if (row) crls.push({ issuer: ca.kind, ca: ca.id, number: Number(row.crl_number), thisUpdate: Number(row.this_update), nextUpdate: Number(row.next_update) });
      }
      const counts = await store.db
        .selectFrom('certificates')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('not_after', '>', seconds())
        .groupBy('status')
        .execute();
      const count = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
      const cas = (a?.trusted ?? []).map((m): CaSummary => ({ id: m.id, kind: m.kind, status: m.status, subject: m.cert.subject, fingerprint: fingerprintSha256(m.cert), notAfter: m.cert.notAfter.toISOString(), keyOnline: m.key !== undefined }));
      const status: CaStatus = { initialized: a !== undefined, trustDomain: config.trustDomain, cas, bundleRoots: cas.filter((c) => c.kind === 'root').length, crls, certificates: { valid: count('valid'), revoked: count('revoked') } };
      if (a) {
        status.root = { id: a.root.id, subject: a.root.cert.subject, fingerprint: a.rootFingerprint, notAfter: a.root.cert.notAfter.toISOString(), keyOnline: a.root.key !== undefined };
        status.intermediate = { id: a.intermediate.id, subject: a.intermediate.cert.subject, notAfter: a.intermediate.cert.notAfter.toISOString() };
      }
      return status;
    },
    async importAuthority(request, actor) {
      const ids = await store.transaction(async (trx) => {
        if (await activeCaCertificate(trx, 'root')) throw new GatehouseError('conflict', 'The CA is already initialized; import works on an empty store only');
        const imported = await importAuthority(authorityDeps(trx), request);
        await deps.audit.record({ event: 'ca.initialized', actor, subject: imported.rootId, data: { intermediate: imported.intermediateId, mode: 'imported', rootKeyOnline: request.rootKeyPem !== undefined } }, trx);
        return imported;
      });
      const loaded = await authority({ fresh: true });
      await refreshCrls(store.db, loaded.trusted, { now: seconds(), crlTtl: config.crlTtl, force: true });
      deps.logger.info(ids, 'CA imported');
      return loaded;
    },
    async takeRootOffline(actor, keep) {
      const a = await authority({ fresh: true });
      if (!a.root.key) throw new GatehouseError('conflict', 'The root key is already offline');
      await keep(await privateKeyToPem(await exportableRootKey(deps.masterKey, a.root.id, store)));
      // The root signs nothing more while offline: publish a root CRL valid for
      // pki.offlineRootCrlTtl (never past the root's expiry); re-sign it with the key before then.
      const nextUpdate = Math.min(seconds() + config.offlineRootCrlTtl, Math.floor(a.root.cert.notAfter.getTime() / 1000));
      await store.transaction(async (trx) => {
        await signCrl(trx, a.root, { now: seconds(), crlTtl: config.crlTtl, nextUpdate });
        await clearCaKey(trx, a.root.id);
        await deps.audit.record({ event: 'ca.key_exported', actor, subject: a.root.id, reason: 'root_key_exported', data: { crlNextUpdate: nextUpdate } }, trx);
      });
      cached = undefined;
    },
    async rotate(phase, actor) {
      const a = await authority({ fresh: true });
      const result = await store.transaction(async (trx) => {
        const done = await rotate(authorityDeps(trx), a, phase);
        await deps.audit.record({ event: 'ca.rotated', actor, subject: done.activated[0] ?? done.created[0] ?? null, data: { phase, created: done.created, activated: done.activated, retired: done.retired } }, trx);
        return done;
      });
      const loaded = await authority({ fresh: true });
      // New CAs publish a CRL at once (peers load one per CA in the bundle).
      await refreshCrls(store.db, loaded.trusted, { now: seconds(), crlTtl: config.crlTtl });
      deps.logger.info({ ...result }, 'CA rotation');
      return result;
    },
    async mintJoinToken(request) {
      const a = await authority();
      return store.transaction(async (trx) => {
        const minted = await mintJoinToken(trx, config, a.rootFingerprint, seconds(), request);
        await deps.audit.record({ event: 'join_token.created', actor: request.createdBy, subject: minted.service, data: { tokenId: minted.id, expiresAt: minted.expiresAt } }, trx);
        return minted;
      });
    },
    enroll: (request) => enroll(issuanceDeps, request),
    renew: (request) => renew(issuanceDeps, request),
    issue: (request) => issueDirect(issuanceDeps, request),
    async issueOwn(service, names, actor) {
      const a = await authority();
      const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const publicKeyInfo = AsnConvert.parse(await webcrypto.subtle.exportKey('spki', keys.publicKey), SubjectPublicKeyInfo);
      const split = { dns: names.filter((n) => isIP(n) === 0), ips: names.filter((n) => isIP(n) !== 0) };
      const issued = await signAndRecord(issuanceDeps, a, { publicKeyInfo, spkiSha256: spkiSha256(publicKeyInfo) }, service, split, leafTtl(config, undefined), actor);
      return { key: await privateKeyToPem(keys.privateKey), cert: issued.certificate, serial: issued.serial, notBefore: issued.notBefore, notAfter: issued.notAfter };
    },
    revoke: (request) => revoke({ store, audit: deps.audit, events: deps.events, logger: deps.logger, authority, crlTtl: config.crlTtl, now }, request),
    list: (filter) => listCertificates(store.db, { ...filter, service: filter.service, limit: filter.limit ?? 1000 }),
    async crl(kind) {
      const a = await authority();
      const cas = a.trusted.filter((c) => c.kind === kind);
      let rows = await crlDocument(store.db, cas);
      if (rows.length < cas.length) {
        await refreshCrls(store.db, cas, { now: seconds(), crlTtl: config.crlTtl });
        rows = await crlDocument(store.db, cas);
      }
      const first = rows[0];
      if (!first) throw new GatehouseError('not_found', `No CRL for the ${kind} CA yet`);
      return { pem: rows.map((r) => r.crl_pem).join(''), number: Number(first.crl_number), thisUpdate: Number(first.this_update), nextUpdate: Number(first.next_update) };
    },
    refreshCrls: (force = false) => refresh(force),
  };
}

/** The loaded root key is not extractable: read the sealed copy once more to export it. */
async function exportableRootKey(masterKey: Buffer, id: string, store: Store): Promise<CryptoKey> {
  const row = await store.db.selectFrom('ca_certificates').select('key_enc').where('id', '=', id).executeTakeFirstOrThrow();
  if (!row.key_enc) throw new GatehouseError('conflict', 'The root key is already offline');
  return importEcPrivateKey(unseal(masterKey, row.key_enc, caKeyContext(id)), true);
}


/**
 * Re-signs CRLs at half their lifetime and re-reads the CA rows (rotations and an offline root
 * done by another process), at least every pki.caCheckInterval. Returns a stop function.
 */
export function startCrlRefresher(pki: Pki, options: { crlTtl: number; logger: Logger }): () => void {
  const every = Math.max(1000, Math.min((options.crlTtl * 1000) / 4, 60_000, pki.checkIntervalMs));
  const timer = setInterval(() => {
    pki.refreshCrls().then(
      (signed) => { if (signed.length > 0) options.logger.debug({ signed }, 'CRLs re-signed'); },
      (error: unknown) => options.logger.error({ err: error }, 'CRL re-signing failed; retrying'),
    );
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
