/**
 * An HTTPS server that requires a client certificate from our trust bundle. Node verifies the
 * chain; we accept the handshake either way (rejectUnauthorized false) so every refusal can be
 * logged with its reason, then check what OpenSSL does not (cA, keyUsage, EKU clientAuth,
 * exactly one SPIFFE ID in our trust domain), and on EVERY request the CRL's freshness
 * (`maxCrlStaleness`), the revocation set and expiry: a kept-alive connection opened before a revocation is cut off as soon as the CRL
 * arrives. Our own certificate is hot-swapped (`setSecureContext`) when the identity renews.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { checkPeerSocket, type LeafIdentity, type PeerCheck } from '../x509/index.ts';
import { compileAllow, type AllowRule } from './allow.ts';
import type { SdkLogger, WorkloadIdentity } from './workload-identity.ts';

export interface PeerIdentity extends LeafIdentity {}

export interface MtlsRequest extends IncomingMessage {
  /** The caller's SPIFFE ID, e.g. spiffe://gatehouse.local/svc/orders. */
  spiffeId: string;
  peer: PeerIdentity;
}

export interface MtlsServerOptions {
  identity: WorkloadIdentity;
  allow: AllowRule[];
  logger?: SdkLogger;
}

const peers = new WeakMap<TLSSocket, PeerCheck>();

/** The caller's identity on a request served by createMtlsServer. */
export function peerIdentity(request: IncomingMessage): PeerIdentity | undefined {
  return (request as Partial<MtlsRequest>).peer;
}

function refuse(response: ServerResponse, status: 401 | 403 | 503, code: string, title: string, closeConnection: boolean): void {
  const body = JSON.stringify({ type: `urn:gatehouse:error:${code}`, title, status, code });
  response.writeHead(status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body), ...(closeConnection ? { connection: 'close' } : {}) });
  response.end(body, () => { if (closeConnection) response.socket?.destroy(); });
}

export function createMtlsServer(handler: (request: MtlsRequest, response: ServerResponse) => void, options: MtlsServerOptions): Server {
  const { identity } = options;
  const logger = options.logger;
  const decide = compileAllow(options.allow);
  const tlsOptions = () => {
    const c = identity.credentials();
    return { key: c.key, cert: c.cert, ca: c.ca };
  };
  // Every caller is a Gatehouse SDK client: TLS 1.3 only (no CBC/SHA-1 suites of TLS 1.2).
  const server = createServer({ ...tlsOptions(), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (request, response) => {
    const socket = request.socket as TLSSocket;
    let check = peers.get(socket);
    if (!check) {
      check = checkPeerSocket(socket, { trustDomain: identity.trustDomain });
      peers.set(socket, check);
    }
    const where = { method: request.method, path: request.url?.split('?')[0], remote: socket.remoteAddress };
    if (!check.ok) {
      logger?.warn({ ...where, reason: check.reason, detail: check.detail }, 'mTLS caller refused: certificate not accepted');
      return refuse(response, 401, 'certificate_rejected', 'The client certificate is missing, invalid or revoked', true);
    }
    const { peer } = check;
    const stale = identity.crlStale();
    if (stale !== undefined) {
      logger?.warn({ ...where, spiffeId: peer.spiffeId, serial: peer.serial, reason: 'crl_stale', detail: stale }, 'mTLS caller refused: revocation status unknown');
      return refuse(response, 503, 'crl_stale', 'The revocation list is out of date: callers cannot be checked', true);
    }
    if (identity.isRevoked(peer.serial)) {
      logger?.warn({ ...where, spiffeId: peer.spiffeId, serial: peer.serial, reason: 'certificate_revoked' }, 'mTLS caller refused: certificate revoked');
      return refuse(response, 401, 'certificate_rejected', 'The client certificate is missing, invalid or revoked', true);
    }
    if (peer.notAfter.getTime() <= Date.now()) {
      logger?.warn({ ...where, spiffeId: peer.spiffeId, serial: peer.serial, reason: 'expired' }, 'mTLS caller refused: certificate expired on a kept-alive connection');
      return refuse(response, 401, 'certificate_rejected', 'The client certificate is missing, invalid or revoked', true);
    }
    const decision = decide(peer.spiffeId, request.method ?? 'GET', request.url ?? '/');
    if (!decision.allow) {
      logger?.warn({ ...where, spiffeId: peer.spiffeId, reason: decision.reason }, 'mTLS caller refused: not allowed');
      return refuse(response, 403, 'forbidden', 'The caller is not allowed to do this', false);
    }
    const mtlsRequest = request as MtlsRequest;
    mtlsRequest.spiffeId = peer.spiffeId;
    mtlsRequest.peer = peer;
    handler(mtlsRequest, response);
  });
  const onChanged = () => server.setSecureContext(tlsOptions());
  identity.on('changed', onChanged);
  server.on('close', () => identity.off('changed', onChanged));
  return server;
}
