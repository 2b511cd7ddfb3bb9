/**
 * The Security Service's TLS listener (listen.tlsPort) for /pki/enroll and /pki/renew. Its own
 * certificate comes from the CA (spiffe://<td>/svc/gatehouse + pki.serverNames) and is replaced
 * in place (`setSecureContext`) at two thirds of its lifetime. It asks for a client certificate
 * but accepts connections without one (enrollment has none yet): /pki/renew checks
 * `socket.authorized` and the leaf itself, so refusals are logged with a reason.
 */
import type { AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../shared/http.ts';
import type { Logger } from '../shared/logger.ts';
import type { Pki, ServerCredentials } from './index.ts';
import { registerPkiRoutes } from './api.ts';
import { RESERVED_SERVICE } from '../shared/spiffe.ts';

export interface PkiTlsListener {
  app: FastifyInstance;
  /** https://host:port once listening. */
  readonly url: string | undefined;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

export const TLS_LISTENER_SERVICE = RESERVED_SERVICE;

export async function createPkiTlsListener(pki: Pki, options: { logger: Logger; bodyLimit: number; serverNames: string[] }): Promise<PkiTlsListener> {
  let authority = await pki.authority();
  const issue = () => pki.issueOwn(TLS_LISTENER_SERVICE, options.serverNames, 'system:tls-listener');
  let credentials: ServerCredentials = await issue();
  let issuedUnder = authority.intermediate.id;
  const secureOptions = (c: ServerCredentials) => ({ key: c.key, cert: c.cert, ca: authority.bundlePem });

  const app = createHttpApp({
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    trustProxy: false,
    https: { ...secureOptions(credentials), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
  });
  registerPkiRoutes(app, pki, { tls: true });

  let url: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let watcher: NodeJS.Timeout | undefined;
  // A CA rotation (possibly by another process): trust the new bundle for client certificates,
  // and once a new intermediate is active, present a certificate from it, so workloads whose
  // join token pins the new root can enroll.
  const watch = async () => {
    try {
      const current = await pki.authority();
      if (current === authority) return;
      const bundleChanged = current.bundlePem !== authority.bundlePem;
      authority = current;
      if (current.intermediate.id !== issuedUnder) {
        credentials = await issue();
        issuedUnder = current.intermediate.id;
        options.logger.info({ serial: credentials.serial, intermediate: issuedUnder }, 'TLS listener certificate re-issued by the new intermediate');
      } else if (!bundleChanged) return;
      (app.server as HttpsServer).setSecureContext(secureOptions(credentials));
    } catch (error) {
      options.logger.error({ err: error }, 'TLS listener could not follow a CA change; retrying');
    }
  };
  const schedule = () => {
    const lifetime = (credentials.notAfter - credentials.notBefore) * 1000;
    const due = credentials.notBefore * 1000 + (lifetime * 2) / 3 - Date.now();
    timer = setTimeout(renewOwn, Math.max(1000, Math.min(due, 2 ** 31 - 1)));
    timer.unref();
  };
  const renewOwn = async () => {
    try {
      credentials = await issue();
      (app.server as HttpsServer).setSecureContext(secureOptions(credentials));
      options.logger.info({ serial: credentials.serial, notAfter: credentials.notAfter }, 'TLS listener certificate renewed');
    } catch (error) {
      options.logger.error({ err: error }, 'TLS listener certificate renewal failed; retrying');
    }
    schedule();
  };

  return {
    app,
    get url() {
      return url;
    },
    async listen(host, port) {
      await app.listen({ host, port });
      const address = app.server.address() as AddressInfo;
      url = `https://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      schedule();
      watcher = setInterval(() => void watch(), Math.max(500, pki.checkIntervalMs));
      watcher.unref();
      return url;
    },
    async close() {
      if (timer) clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      await app.close();
    },
  };
}
