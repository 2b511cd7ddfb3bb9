/**
 * mTLS renewal provisioner: the caller proves who it is with its current certificate. It must
 * chain to our roots (OpenSSL verified the handshake: `socket.authorized`), pass the leaf checks
 * OpenSSL does not do (checkPeerSocket in ../../x509/index.ts, shared with the SDK's mTLS server), be one we issued and still valid in our
 * records (not revoked). The grant is the same identity only.
 */
import type { TLSSocket } from 'node:tls';
import { checkPeerSocket, type PeerProblem } from '../../x509/index.ts';
import type { Executor } from '../../store/index.ts';
import { findCertificate } from '../repository.ts';

export type RenewalRefusal = PeerProblem | 'unknown_certificate' | 'certificate_revoked' | 'identity_mismatch';

export type RenewalGrant =
  | { ok: true; service: string; serial: string; requestedBy: string }
  | { ok: false; reason: RenewalRefusal; detail: string; serial: string | undefined; service: string | undefined };

export async function authorizeRenewal(db: Executor, socket: TLSSocket, trustDomain: string, nowMs: number): Promise<RenewalGrant> {
  const check = checkPeerSocket(socket, { trustDomain, now: nowMs });
  if (!check.ok) return { ok: false, reason: check.reason, detail: check.detail, serial: undefined, service: undefined };
  const leaf = check.peer;
  const row = await findCertificate(db, leaf.serial);
  if (!row) return { ok: false, reason: 'unknown_certificate', detail: `serial ${leaf.serial} was not issued by this CA`, serial: leaf.serial, service: leaf.service };
  if (row.status !== 'valid') return { ok: false, reason: 'certificate_revoked', detail: `serial ${leaf.serial} is revoked`, serial: leaf.serial, service: leaf.service };
  if (row.service !== leaf.service) return { ok: false, reason: 'identity_mismatch', detail: 'the certificate does not match our record', serial: leaf.serial, service: leaf.service };
  return { ok: true, service: leaf.service, serial: leaf.serial, requestedBy: `renewal:${leaf.serial}` };
}
