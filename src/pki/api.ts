/**
 * PKI HTTP routes, one line each. The public documents (trust bundle, CRLs) are served on both
 * listeners; enrollment and renewal only on the TLS listener (a join token must not travel in
 * clear text, and renewal needs the client certificate), the plain listener explains where.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatehouseError } from '../shared/errors.ts';
import { parseInput } from '../shared/validation.ts';
import { sendCacheable } from '../shared/http-cache.ts';
import { x509 } from '../x509/index.ts';
import type { Pki } from './index.ts';

const enrollBody = z.object({
  token: z.string().min(1).max(512),
  csr: z.string().min(1).max(32_768),
  /** Seconds; the CA caps it at pki.maxLeafTtl. */
  ttl: z.number().int().positive().optional(),
});
const renewBody = enrollBody.omit({ token: true });

/** Served with a content ETag and revalidated on every use (`no-cache`): 304 while unchanged. */
function sendDocument(request: FastifyRequest, reply: FastifyReply, body: string | Buffer, type: string): FastifyReply {
  return sendCacheable(request, reply, { body, type, cacheControl: 'no-cache' });
}

/** PEM: the CRL of every trusted CA of that kind, concatenated. DER holds one: the active CA's. */
async function crlRoute(pki: Pki, issuer: 'root' | 'intermediate', request: FastifyRequest, reply: FastifyReply) {
  const crl = await pki.crl(issuer);
  if ((request.headers.accept ?? '').includes('application/pkix-crl')) {
    return sendDocument(request, reply, Buffer.from(x509.PemConverter.decodeFirst(crl.pem)), 'application/pkix-crl');
  }
  return sendDocument(request, reply, crl.pem, 'application/x-pem-file');
}

export interface PkiRouteOptions {
  /** True on the TLS listener: enrollment and renewal are served there only. */
  tls: boolean;
  /** Where the TLS listener is, for the plain listener's explanation. */
  tlsUrl?: () => string | undefined;
}

export function registerPkiRoutes(app: FastifyInstance, pki: Pki, options: PkiRouteOptions): void {
  const tlsOnly = async () => {
    const where = options.tlsUrl?.();
    throw new GatehouseError('invalid_request', `Enrollment and renewal are served over TLS${where ? ` at ${where}` : ' (listen.tlsPort)'}`);
  };
  app.get('/pki/bundle.pem', async (request, reply) => sendDocument(request, reply, (await pki.authority()).bundlePem, 'application/x-pem-file'));
  app.get('/pki/intermediates.pem', async (request, reply) => sendDocument(request, reply, (await pki.authority()).intermediatesPem, 'application/x-pem-file'));
  app.get('/pki/crl/root.crl', (request, reply) => crlRoute(pki, 'root', request, reply));
  app.get('/pki/crl/intermediate.crl', (request, reply) => crlRoute(pki, 'intermediate', request, reply));
  app.post('/pki/enroll', !options.tls ? tlsOnly : async (request) => {
    const body = parseInput(enrollBody, request.body ?? {});
    const issued = await pki.enroll({ token: body.token, csr: body.csr, ttl: body.ttl, ip: request.ip });
    return { certificate: issued.certificate, serial: issued.serial, spiffeId: issued.spiffeId, notAfter: issued.notAfter };
  });
  app.post('/pki/renew', !options.tls ? tlsOnly : async (request) => {
    const body = parseInput(renewBody, request.body ?? {});
    const issued = await pki.renew({ socket: request.raw.socket as TLSSocket, csr: body.csr, ttl: body.ttl, ip: request.ip });
    return { certificate: issued.certificate, serial: issued.serial, spiffeId: issued.spiffeId, notAfter: issued.notAfter };
  });
}
