/**
 * The checks a Gatehouse peer applies to a workload certificate beyond what OpenSSL verifies.
 * OpenSSL accepts a CA:TRUE certificate with clientAuth, a leaf with keyCertSign, two URI SANs
 * and a leaf without EKU or keyUsage (see STACK-NOTES): we check those here, from the parsed
 * certificate, never from Node's SAN string. Used by the CA (renewal) and by the SDK (mTLS).
 */
import type { TLSSocket } from 'node:tls';
import { x509, normalizeSerial } from './x509.ts';
import { parseSpiffeId } from './spiffe.ts';

export type LeafProblem =
  | 'ca_certificate'
  | 'key_usage'
  | 'missing_client_auth'
  | 'missing_server_auth'
  | 'uri_san_count'
  | 'not_spiffe'
  | 'foreign_trust_domain'
  | 'not_a_service'
  | 'expired'
  | 'not_yet_valid';

export interface LeafIdentity {
  spiffeId: string;
  service: string;
  trustDomain: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export type LeafCheck = ({ ok: true } & LeafIdentity) | { ok: false; reason: LeafProblem; detail: string };

export interface LeafCheckOptions {
  /** Undefined: any trust domain (only before enrollment, when a pinned root is the anchor). */
  trustDomain: string | undefined;
  /** The EKU the peer's role needs: clientAuth for callers, serverAuth for servers. */
  usage: 'clientAuth' | 'serverAuth';
  /** Milliseconds since the epoch; default now. */
  now?: number;
  /**
   * Accept a certificate that expired less than this many ms ago (default 0). Only the CA's
   * renewal endpoint passes it (pki.renewalGrace); the caller sees the expiry in `notAfter`.
   */
  expiredGrace?: number;
}

const refuse = (reason: LeafProblem, detail: string): LeafCheck => ({ ok: false, reason, detail });

export function checkLeaf(input: x509.X509Certificate | ArrayBuffer | Uint8Array, options: LeafCheckOptions): LeafCheck {
  const cert = input instanceof x509.X509Certificate ? input : new x509.X509Certificate(input instanceof Uint8Array ? new Uint8Array(input) : input);
  const now = options.now ?? Date.now();
  if (cert.notAfter.getTime() <= now - (options.expiredGrace ?? 0)) return refuse('expired', `expired at ${cert.notAfter.toISOString()}`);
  if (cert.notBefore.getTime() > now) return refuse('not_yet_valid', `not valid before ${cert.notBefore.toISOString()}`);

  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (basic?.ca) return refuse('ca_certificate', 'a CA certificate (basicConstraints cA=true) cannot be a workload identity');
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage || !(keyUsage.usages & x509.KeyUsageFlags.digitalSignature) || keyUsage.usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) {
    return refuse('key_usage', 'expected keyUsage digitalSignature without keyCertSign/cRLSign');
  }
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const wanted = options.usage === 'clientAuth' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  if (!eku || !eku.usages.includes(wanted)) {
    return refuse(options.usage === 'clientAuth' ? 'missing_client_auth' : 'missing_server_auth', `expected extendedKeyUsage ${options.usage}`);
  }

  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = (san?.names.items ?? []).filter((n) => n.type === 'url').map((n) => n.value);
  if (uris.length !== 1) return refuse('uri_san_count', `expected exactly one URI SAN, found ${uris.length}`);
  const parsed = parseSpiffeId(uris[0]!);
  if (!parsed) return refuse('not_spiffe', `the URI SAN is not a SPIFFE ID: ${uris[0]}`);
  if (options.trustDomain !== undefined && parsed.trustDomain !== options.trustDomain) {
    return refuse('foreign_trust_domain', `expected trust domain ${options.trustDomain}, received ${parsed.trustDomain}`);
  }
  if (!parsed.service) return refuse('not_a_service', `expected spiffe://${parsed.trustDomain}/svc/<service>, received ${uris[0]}`);
  return {
    ok: true,
    spiffeId: uris[0]!,
    service: parsed.service,
    trustDomain: parsed.trustDomain,
    serial: normalizeSerial(cert.serialNumber),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

export type PeerProblem = LeafProblem | 'no_client_certificate' | 'untrusted_certificate' | 'unparseable_certificate';

export type PeerCheck = { ok: true; peer: LeafIdentity } | { ok: false; reason: PeerProblem; detail: string };

/**
 * The client certificate of a TLS connection that asked for one without rejecting the
 * handshake: present, verified by OpenSSL against our roots (`socket.authorized`), and a
 * workload leaf for `clientAuth` (checkLeaf). Used by the CA's renewal provisioner and by the
 * SDK's mTLS server, so both refuse the same certificates for the same reasons.
 */
export function checkPeerSocket(socket: TLSSocket, options: { trustDomain: string; now?: number }): PeerCheck {
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw) return { ok: false, reason: 'no_client_certificate', detail: 'no client certificate was presented' };
  if (!socket.authorized) return { ok: false, reason: 'untrusted_certificate', detail: String(socket.authorizationError ?? 'the chain does not lead to a trusted root') };
  try {
    const leaf = checkLeaf(new Uint8Array(cert.raw), { trustDomain: options.trustDomain, usage: 'clientAuth', ...(options.now === undefined ? {} : { now: options.now }) });
    if (!leaf.ok) return leaf;
    const { ok: _ok, ...peer } = leaf;
    return { ok: true, peer };
  } catch (error) {
    return { ok: false, reason: 'unparseable_certificate', detail: (error as Error).message };
  }
}
