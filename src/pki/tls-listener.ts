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
import type { RefusalLimiter } from '../shared/refusal-limit.ts';
import type { Pki, ServerCredentials } from './index.ts';
import { registerPkiRoutes } from './api.ts';
import { renewalDelay, retryDelay, type RetryPolicy } from '../shared/backoff.ts';
import { RESERVED_SERVICE } from '../x509/index.ts';
import { closeWithin } from '../shared/bounded-close.ts';

export interface PkiTlsListener {
  app: FastifyInstance;
  /** https://host:port once listening. */
  readonly url: string | undefined;
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

export const TLS_LISTENER_SERVICE = RESERVED_SERVICE;

/** Retries of the listener's own renewal: 1 s doubling up to 60 s, jittered in [d/2, d]. */
const DEFAULT_RETRY: RetryPolicy = { initialDelay: 1000, maxDelay: 60_000, jitter: 'equal' };

export async function createPkiTlsListener(pki: Pki, options: { logger: Logger; bodyLimit: number; serverNames: string[]; retry?: RetryPolicy; refusals?: RefusalLimiter; /** Seconds in-flight requests get on close (http.shutdownTimeout). */ shutdownTimeout: number }): Promise<PkiTlsListener> {
  const retry = options.retry ?? DEFAULT_RETRY;
  let authority = await pki.authority();
  const issue = () => pki.issueOwn(TLS_LISTENER_SERVICE, options.serverNames, 'system:tls-listener');
  let credentials: ServerCredentials = await issue();
  let issuedUnder = authority.intermediate.id;
  const secureOptions = (c: ServerCredentials) => ({ key: c.key, cert: c.cert, ca: authority.bundlePem });

  // Every client is the Gatehouse SDK (or the CLI's openssl/curl equivalents): TLS 1.3 only.
  // Clients connect directly (mTLS cannot pass a proxy), so no X-Forwarded-For is believed here.
  const app = createHttpApp({
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    https: { ...secureOptions(credentials), requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
    ...(options.refusals ? { refusals: options.refusals } : {}),
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
  let closed = false;
  // Failed attempts in a row: retries back off (a CA whose store is down is not hammered).
  let failures = 0;
  const schedule = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => void renewOwn(), Math.min(delay, 2 ** 31 - 1));
    timer.unref();
  };
  const scheduleRenewal = () => schedule(renewalDelay(credentials.notBefore * 1000, credentials.notAfter * 1000, 2 / 3, Date.now()));
  const renewOwn = async () => {
    try {
      credentials = await issue();
      (app.server as HttpsServer).setSecureContext(secureOptions(credentials));
      failures = 0;
      options.logger.info({ serial: credentials.serial, notAfter: credentials.notAfter }, 'TLS listener certificate renewed');
      scheduleRenewal();
    } catch (error) {
      const retryIn = retryDelay(retry, failures);
      failures += 1;
      options.logger.error({ err: error, attempt: failures, retryIn, notAfter: credentials.notAfter }, 'TLS listener certificate renewal failed; keeping the current one and retrying');
      schedule(retryIn);
    }
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
      scheduleRenewal();
      watcher = setInterval(() => void watch(), Math.max(500, pki.checkIntervalMs));
      watcher.unref();
      return url;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      await closeWithin(app.server, options.shutdownTimeout, () => app.close(), options.logger.child({ listener: 'pki-tls' }));
    },
  };
}
