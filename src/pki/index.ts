/**
 * The internal CA as one component: `createPki(deps)` wires the authority, the provisioners
 * (join token, mTLS renewal), issuance, revocation and CRLs over the store. Routes live in
 * ./api.ts, the TLS listener in ./tls-listener.ts.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus } from '../events/types.ts';
import type { Logger } from '../shared/logger.ts';
import type { Clock } from '../shared/clock.ts';
import { GatehouseError } from '../shared/errors.ts';
import { x509, privateKeyToPem, importEcPrivateKey, type CryptoKey } from '../shared/x509.ts';
import { unseal } from '../shared/sealed.ts';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { generateAuthority, importAuthority, loadAuthority, type Authority, type AuthorityDeps, type ImportRequest } from './authority.ts';
import { enroll, renew, issueDirect, signAndRecord, leafTtl, type IssuanceDeps, type IssuedCertificate } from './issuance.ts';
import { mintJoinToken, type MintedJoinToken } from './provisioners/join-token.ts';
import { revoke, type RevokeRequest, type RevokeResult } from './revocation.ts';
import { refreshCrls, signCrl } from './crl.ts';
import { activeCaCertificate, clearCaKey, findCrl, listCaCertificates, listCertificates, type CaKind } from './repository.ts';
import type { CertificateRow } from '../store/index.ts';

export { createPkiTlsListener, type PkiTlsListener } from './tls-listener.ts';
export { registerPkiRoutes } from './api.ts';
export { parseJoinToken } from './provisioners/join-token.ts';
export { crlNumberOf } from './crl.ts';
export type { IssuedCertificate, MintedJoinToken, RevokeResult, Authority };

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

export interface CaStatus {
  initialized: boolean;
  trustDomain: string;
  root?: { id: string; subject: string; fingerprint: string; notAfter: string; keyOnline: boolean };
  intermediate?: { id: string; subject: string; notAfter: string };
  bundleRoots: number;
  crls: Array<{ issuer: CaKind; number: number; thisUpdate: number; nextUpdate: number }>;
  certificates: { valid: number; revoked: number };
}

export interface Pki {
  /** Creates root + intermediate if there are none (first start, `ca init`). */
  ensureInitialized(actor?: string): Promise<{ created: boolean; authority: Authority }>;
  authority(): Promise<Authority>;
  status(): Promise<CaStatus>;
  importAuthority(request: ImportRequest, actor: string): Promise<Authority>;
  /** Signs a last long-lived root CRL, removes the root key from the store and returns it (PEM). */
  takeRootOffline(actor: string): Promise<string>;
  mintJoinToken(request: { service: string; ttlSeconds?: number | undefined; createdBy: string }): Promise<MintedJoinToken>;
  enroll(request: { token: string; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate>;
  renew(request: { socket: TLSSocket; csr: unknown; ttl?: number | undefined; ip?: string | undefined }): Promise<IssuedCertificate>;
  issue(request: { csr: unknown; service: string; ttl?: number | undefined; actor: string }): Promise<IssuedCertificate>;
  /** Key + certificate for a service the CA runs itself (its TLS listener), generated here. */
  issueOwn(service: string, names: string[], actor: string): Promise<ServerCredentials>;
  revoke(request: RevokeRequest): Promise<RevokeResult>;
  list(filter: { service?: string | undefined; status?: 'valid' | 'revoked' | undefined; limit?: number }): Promise<CertificateRow[]>;
  /** The stored CRL of `issuer` (signed on demand if there is none yet). */
  crl(issuer: CaKind): Promise<{ pem: string; number: number; thisUpdate: number; nextUpdate: number }>;
  refreshCrls(force?: boolean): Promise<CaKind[]>;
}

export function createPki(deps: PkiDeps): Pki {
  const { store, config } = deps;
  const now = () => deps.clock.now();
  const seconds = () => Math.floor(now() / 1000);
  const authorityDeps = (db = store.db as AuthorityDeps['db']): AuthorityDeps => ({
    db,
    masterKey: deps.masterKey,
    trustDomain: config.trustDomain,
    rootTtl: config.rootTtl,
    intermediateTtl: config.intermediateTtl,
    now,
  });
  let cached: Promise<Authority> | undefined;

  async function authority(): Promise<Authority> {
    cached ??= loadAuthority(authorityDeps()).then((a) => {
      if (!a) throw new GatehouseError('not_found', 'The CA is not initialized: run `gatehouse ca init` (or start the service once)');
      return a;
    });
    try {
      return await cached;
    } catch (error) {
      cached = undefined;
      throw error;
    }
  }

  const issuanceDeps: IssuanceDeps = { store, audit: deps.audit, authority, limits: config, now };

  return {
    authority,
    async ensureInitialized(actor = 'system') {
      const existing = await loadAuthority(authorityDeps());
      if (existing) return { created: false, authority: await authority() };
      const ids = await store.transaction(async (trx) => {
        // Re-check inside the transaction: two processes starting at once create one CA.
        if (await activeCaCertificate(trx, 'root')) return undefined;
        const created = await generateAuthority(authorityDeps(trx));
        await deps.audit.record({ event: 'ca.initialized', actor, subject: created.rootId, data: { intermediate: created.intermediateId, mode: 'generated' } }, trx);
        return created;
      });
      cached = undefined;
      const loaded = await authority();
      await refreshCrls(store.db, { root: loaded.root, intermediate: loaded.intermediate }, { now: seconds(), crlTtl: config.crlTtl, force: true });
      return { created: ids !== undefined, authority: loaded };
    },
    async status() {
      const a = await loadAuthority(authorityDeps());
      const roots = await listCaCertificates(store.db, 'root');
      const crls = [];
      for (const kind of ['root', 'intermediate'] as const) {
        const row = await findCrl(store.db, kind);
        if (row) crls.push({ issuer: kind, number: Number(row.crl_number), thisUpdate: Number(row.this_update), nextUpdate: Number(row.next_update) });
      }
      const counts = await store.db
        .selectFrom('certificates')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .where('not_after', '>', seconds())
        .groupBy('status')
        .execute();
      const count = (s: string) => Number(counts.find((c) => c.status === s)?.n ?? 0);
      const status: CaStatus = { initialized: a !== undefined, trustDomain: config.trustDomain, bundleRoots: roots.length, crls, certificates: { valid: count('valid'), revoked: count('revoked') } };
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
      cached = undefined;
      const loaded = await authority();
      await refreshCrls(store.db, { root: loaded.root, intermediate: loaded.intermediate }, { now: seconds(), crlTtl: config.crlTtl, force: true });
      deps.logger.info(ids, 'CA imported');
      return loaded;
    },
    async takeRootOffline(actor) {
      const a = await authority();
      if (!a.root.key) throw new GatehouseError('conflict', 'The root key is already offline');
      const pem = await privateKeyToPem(await exportableRootKey(deps.masterKey, a.root.id, store));
      await store.transaction(async (trx) => {
        // The root signs nothing more while offline: publish a root CRL valid for the root's life.
        await signCrl(trx, 'root', a.root, { now: seconds(), crlTtl: config.crlTtl, nextUpdate: Math.floor(a.root.cert.notAfter.getTime() / 1000) });
        await clearCaKey(trx, a.root.id);
        await deps.audit.record({ event: 'ca.initialized', actor, subject: a.root.id, reason: 'root_key_exported', data: { mode: 'offline_root' } }, trx);
      });
      cached = undefined;
      return pem;
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
      const issued = await signAndRecord(issuanceDeps, a, publicKeyInfo, service, split, leafTtl(config, undefined), actor);
      return { key: await privateKeyToPem(keys.privateKey), cert: issued.certificate, serial: issued.serial, notBefore: issued.notBefore, notAfter: issued.notAfter };
    },
    revoke: (request) => revoke({ store, audit: deps.audit, events: deps.events, logger: deps.logger, authority, crlTtl: config.crlTtl, now }, request),
    list: (filter) => listCertificates(store.db, { ...filter, service: filter.service, limit: filter.limit ?? 1000 }),
    async crl(issuer) {
      let row = await findCrl(store.db, issuer);
      if (!row) {
        const a = await authority();
        await refreshCrls(store.db, { root: a.root, intermediate: a.intermediate }, { now: seconds(), crlTtl: config.crlTtl });
        row = await findCrl(store.db, issuer);
        if (!row) throw new GatehouseError('not_found', `No CRL for the ${issuer} CA yet`);
      }
      return { pem: row.crl_pem, number: Number(row.crl_number), thisUpdate: Number(row.this_update), nextUpdate: Number(row.next_update) };
    },
    async refreshCrls(force = false) {
      const a = await authority();
      return refreshCrls(store.db, { root: a.root, intermediate: a.intermediate }, { now: seconds(), crlTtl: config.crlTtl, force });
    },
  };
}

/** The loaded root key is not extractable: read the sealed copy once more to export it. */
async function exportableRootKey(masterKey: Buffer, id: string, store: Store): Promise<CryptoKey> {
  const row = await store.db.selectFrom('ca_certificates').select('key_enc').where('id', '=', id).executeTakeFirstOrThrow();
  if (!row.key_enc) throw new GatehouseError('conflict', 'The root key is already offline');
  return importEcPrivateKey(unseal(masterKey, row.key_enc, `ca:${id}`), true);
}


/** Re-signs CRLs at half their lifetime; checks often enough for short test lifetimes. Returns a stop function. */
export function startCrlRefresher(pki: Pki, options: { crlTtl: number; logger: Logger }): () => void {
  const every = Math.max(1000, Math.min((options.crlTtl * 1000) / 4, 60_000));
  const timer = setInterval(() => {
    pki.refreshCrls().then(
      (signed) => { if (signed.length > 0) options.logger.debug({ signed }, 'CRLs re-signed'); },
      (error: unknown) => options.logger.error({ err: error }, 'CRL re-signing failed; retrying'),
    );
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
