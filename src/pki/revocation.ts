/**
 * Revocation: mark the certificates revoked, audit each, and re-sign the CRL of each
 * intermediate that issued one of them (a retired intermediate too, while leaves under it are
 * valid) — all in one transaction — then publish `certificate.revoked` to subscribers.
 */
import { GatehouseError } from '../shared/errors.ts';
import { normalizeSerial } from '../x509/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus } from '../events/types.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from '../shared/logger.ts';
import type { Authority } from './authority.ts';
import { markRevoked } from './repository.ts';
import { signCrl, REVOCATION_REASONS } from './crl.ts';

export interface RevocationDeps {
  store: Store;
  audit: AuditLog;
  events?: EventBus | undefined;
  logger: Logger;
  authority: (options?: { fresh?: boolean }) => Promise<Authority>;
  crlTtl: number;
  now: () => number;
}

export interface RevokeRequest {
  serial?: string | undefined;
  service?: string | undefined;
  reason?: string | undefined;
  actor: string;
}

export interface RevokeResult {
  serials: string[];
  services: string[];
  crlNumber: number;
}

export async function revoke(deps: RevocationDeps, request: RevokeRequest): Promise<RevokeResult> {
  if ((request.serial === undefined) === (request.service === undefined)) throw new TypeError('revoke needs exactly one of serial or service');
  const reason = request.reason ?? 'unspecified';
  if (!REVOCATION_REASONS.includes(reason)) throw new GatehouseError('invalid_request', `Expected a reason among ${REVOCATION_REASONS.join(', ')}, received ${reason}`);
  const authority = await deps.authority({ fresh: true });
  const now = Math.floor(deps.now() / 1000);
  const result = await deps.store.transaction(async (trx) => {
    const target = request.serial !== undefined ? { serial: normalizeSerial(request.serial) } : { service: request.service!, unexpiredAt: now };
    const rows = await markRevoked(trx, target, now, reason);
    if (rows.length === 0) {
      throw new GatehouseError('not_found', request.serial !== undefined ? `No valid certificate with serial ${request.serial}` : `No valid certificate for service ${request.service}`);
    }
    for (const row of rows) {
      await deps.audit.record({ event: 'cert.revoked', actor: request.actor, subject: row.serial, reason, data: { service: row.service, spiffeId: row.spiffe_id } }, trx);
    }
    let crlNumber = 0;
    for (const issuerId of new Set(rows.map((r) => r.issuer_id ?? authority.intermediate.id))) {
      const issuer = authority.trusted.find((c) => c.id === issuerId && c.key !== undefined);
      // An issuer no longer trusted (dropped) has no valid leaf to list.
      if (!issuer) continue;
      const crl = await signCrl(trx, issuer, { now, crlTtl: deps.crlTtl });
      crlNumber ||= crl.crl_number;
    }
    return { rows, crlNumber };
  });
  const services = [...new Set(result.rows.map((r) => r.service))];
  const serials = result.rows.map((r) => r.serial);
  if (deps.events) {
    for (const service of services) {
      const mine = result.rows.filter((r) => r.service === service);
      await deps.events
        .publish({ type: 'certificate.revoked', serials: mine.map((r) => r.serial), service, until: mine.reduce((latest, r) => Math.max(latest, Number(r.not_after)), 0), reason })
        .catch((error: unknown) => deps.logger.error({ err: error, service }, 'could not publish certificate.revoked (the CRL is updated)'));
    }
  }
  return { serials, services, crlNumber: result.crlNumber };
}
