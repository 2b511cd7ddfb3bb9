/**
 * mTLS renewal provisioner: the caller proves who it is with its current certificate. It must
 * chain to our roots (OpenSSL verified the handshake: `socket.authorized`), pass the leaf checks
 * OpenSSL does not do (checkPeerSocket in ../../x509/index.ts, shared with the SDK's mTLS server),
 * be one we issued and still valid in our records (not revoked). The grant is the same identity
 * only.
 *
 * Renewal after expiry (`pki.renewalGrace`, off by default; step-ca's allowRenewalAfterExpiry):
 * the TLS listener accepts every handshake (rejectUnauthorized false) and decides per endpoint,
 * so an expired client certificate reaches us with `authorizationError` CERT_HAS_EXPIRED. OpenSSL
 * reports one error only, so that code proves nothing else about the chain: an expired
 * certificate is then verified here from scratch — signed by an intermediate we trust and that
 * is valid now, the full leaf check with the expiry moved back by the grace, recorded by us and
 * not revoked. Nothing else on any listener accepts an expired certificate.
 */
import type { TLSSocket } from 'node:tls';
import { x509, checkLeaf, checkPeerSocket, type LeafIdentity, type PeerCheck, type PeerProblem } from '../../x509/index.ts';
import type { Executor } from '../../store/index.ts';
import type { Authority } from '../authority.ts';
import { findCertificate } from '../repository.ts';

export type RenewalRefusal = PeerProblem | 'unknown_certificate' | 'certificate_revoked' | 'identity_mismatch';

export type RenewalGrant =
  | { ok: true; service: string; serial: string; requestedBy: string; /** Set when renewed within pki.renewalGrace after expiry. */ expiredFor?: number }
  | { ok: false; reason: RenewalRefusal; detail: string; serial: string | undefined; service: string | undefined };

/** An expired client certificate checked without OpenSSL's verdict: our intermediate's signature, the leaf profile, `graceMs`. */
async function checkExpiredPeer(socket: TLSSocket, authority: Authority, nowMs: number, graceMs: number): Promise<PeerCheck> {
  let leaf: x509.X509Certificate;
  try {
    leaf = new x509.X509Certificate(new Uint8Array(socket.getPeerCertificate().raw));
  } catch (error) {
    return { ok: false, reason: 'unparseable_certificate', detail: (error as Error).message };
  }
  let signed = false;
  for (const ca of authority.trusted) {
    if (ca.kind !== 'intermediate' || ca.cert.subject !== leaf.issuer || ca.cert.notBefore.getTime() > nowMs || ca.cert.notAfter.getTime() <= nowMs) continue;
    if (await leaf.verify({ publicKey: ca.cert.publicKey, signatureOnly: true })) {
      signed = true;
      break;
    }
  }
  if (!signed) return { ok: false, reason: 'untrusted_certificate', detail: 'an expired certificate not signed by an intermediate we trust' };
  const check = checkLeaf(leaf, { trustDomain: authority.trustDomain, usage: 'clientAuth', now: nowMs, expiredGrace: graceMs });
  if (!check.ok) return check;
  const { ok: _ok, ...peer } = check;
  return { ok: true, peer: peer satisfies LeafIdentity };
}

export async function authorizeRenewal(db: Executor, socket: TLSSocket, authority: Authority, nowMs: number, graceMs = 0): Promise<RenewalGrant> {
  let check = checkPeerSocket(socket, { trustDomain: authority.trustDomain, now: nowMs });
  if (!check.ok && check.reason === 'untrusted_certificate' && graceMs > 0 && String(socket.authorizationError) === 'CERT_HAS_EXPIRED') {
    check = await checkExpiredPeer(socket, authority, nowMs, graceMs);
  }
  if (!check.ok) return { ok: false, reason: check.reason, detail: check.detail, serial: undefined, service: undefined };
  const leaf = check.peer;
  const row = await findCertificate(db, leaf.serial);
  if (!row) return { ok: false, reason: 'unknown_certificate', detail: `serial ${leaf.serial} was not issued by this CA`, serial: leaf.serial, service: leaf.service };
  if (row.status !== 'valid') return { ok: false, reason: 'certificate_revoked', detail: `serial ${leaf.serial} is revoked`, serial: leaf.serial, service: leaf.service };
  if (row.service !== leaf.service) return { ok: false, reason: 'identity_mismatch', detail: 'the certificate does not match our record', serial: leaf.serial, service: leaf.service };
  const expiredFor = Math.ceil((nowMs - leaf.notAfter.getTime()) / 1000);
  return { ok: true, service: leaf.service, serial: leaf.serial, requestedBy: `renewal:${leaf.serial}`, ...(expiredFor > 0 ? { expiredFor } : {}) };
}
