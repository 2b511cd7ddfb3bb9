/**
 * A workload's identity: enrolls with a join token (its key is generated here and never leaves
 * the process: the CA gets a CSR), holds key + chain, renews over mTLS at about two thirds of
 * the lifetime (retries with exponential backoff and jitter, never scheduled past the
 * certificate's expiry, keeps serving with the current certificate meanwhile), and reloads the
 * trust bundle and CRLs every few seconds (ETag, so an unchanged document costs a 304). A
 * reload that reaches a CA the last renewal could not reach renews at once. Once the certificate
 * has expired (or the CA no longer knows it), renewal is still tried (the CA may allow it within
 * `pki.renewalGrace`), and when refused the workload enrolls again with a fresh join token from
 * `joinTokenFile` / `joinTokenEnv` (./join-token-source.ts). Emits 'changed' when anything a TLS
 * context uses changes.
 */
import { EventEmitter } from 'node:events';
import type { Agent } from 'undici';
import { x509, parseCertificates, generateKeyAndCsr, checkLeaf, parseJoinToken, fingerprintSha256 } from '../x509/index.ts';
import { retryDelay, retryDelayWithin, renewalDelay, type RetryPolicy } from '../shared/backoff.ts';
import { reportExpiry } from './expiry-metric.ts';
import { bootstrapRoot, caAgent, caCall, expectOk, CaRequestError } from './ca-client.ts';
import { buildTrust, type TrustState } from './trust.ts';
import { joinTokenSource } from './join-token-source.ts';
import type { SdkLogger, WorkloadIdentityOptions, IdentityEvent, WorkloadIdentity } from './workload-identity-types.ts';

const silent: SdkLogger = { info() {}, warn() {}, error() {} };

export type { SdkLogger, WorkloadIdentityOptions, Credentials, IdentityEvent, WorkloadIdentity } from './workload-identity-types.ts';

interface Held {
  key: string;
  chainPem: string;
  leaf: x509.X509Certificate;
  intermediates: x509.X509Certificate[];
  serial: string;
  spiffeId: string;
  trustDomain: string;
}

/** The CA will not renew the certificate and no fresh join token is there to enroll again with. */
class NoFreshJoinToken extends Error {
  constructor(cause: unknown) {
    super(`${(cause as Error).message}; no fresh join token to enroll again with`, { cause });
    this.name = 'NoFreshJoinToken';
  }
}

function keyAndCsr(options: WorkloadIdentityOptions): Promise<{ keyPem: string; csr: string }> {
  return generateKeyAndCsr({ cn: options.service, dns: options.dnsNames ?? [options.service], ips: options.ipAddresses });
}

function hold(key: string, chainPem: string, service: string): Held {
  const [leaf, ...intermediates] = parseCertificates(chainPem);
  if (!leaf || intermediates.length === 0) throw new CaRequestError('the CA answered without a certificate chain');
  // Any trust domain: the CA's own chain (verified on the TLS connection) decides ours.
  const check = checkLeaf(leaf, { trustDomain: undefined, usage: 'clientAuth' });
  if (!check.ok) throw new CaRequestError(`the CA issued a certificate we cannot use: ${check.detail}`);
  if (check.service !== service) throw new CaRequestError(`the CA issued ${check.spiffeId}, expected service ${service}`);
  return { key, chainPem, leaf, intermediates, serial: check.serial, spiffeId: check.spiffeId, trustDomain: check.trustDomain };
}

export async function workloadIdentity(options: WorkloadIdentityOptions): Promise<WorkloadIdentity> {
  const caUrl = options.caUrl.replace(/\/+$/, '');
  const logger = options.logger ?? silent;
  const renewAt = options.renewAt ?? 2 / 3;
  const warnAt = options.warnAt ?? 1 / 6;
  const refreshInterval = options.refreshInterval ?? 5000;
  const maxCrlStaleness = options.maxCrlStaleness ?? 24 * 3_600_000;
  if (!(maxCrlStaleness >= 0)) throw new TypeError(`maxCrlStaleness must be a number of milliseconds ≥ 0, received ${options.maxCrlStaleness}`);
  const retry: RetryPolicy = { initialDelay: options.retry?.initialDelay ?? 1000, maxDelay: options.retry?.maxDelay ?? 30_000, jitter: options.retry?.jitter ?? 'equal' };
  retryDelay(retry, 0); // a bad policy fails here, not at the first renewal
  const emitter = new EventEmitter();
  emitter.on('error', () => {});

  const tokens = joinTokenSource(options);
  const firstToken = tokens.first();

  // 1. Trust anchor: the bundle given, or the root pinned by the token's fingerprint.
  const pinned = options.caFingerprint ?? parseJoinToken(firstToken)?.rootFingerprint;
  let anchor: string;
  if (options.caBundle) anchor = options.caBundle;
  else if (pinned) anchor = await bootstrapRoot(caUrl, pinned);
  else throw new TypeError('workloadIdentity needs caBundle or a CA fingerprint (in the join token or caFingerprint)');

  /** Enrolls with `token` over TLS verified against `roots` (a token is presented once, whatever the answer). */
  async function enrollWith(token: string, roots: string, trustDomain?: string): Promise<Held> {
    const keys = await keyAndCsr(options);
    const enrollAgent = caAgent({ ca: roots, trustDomain });
    tokens.used(token);
    try {
      const response = expectOk(await caCall(enrollAgent, `${caUrl}/pki/enroll`, { method: 'POST', json: { token, csr: keys.csr, ...(options.ttl ? { ttl: options.ttl } : {}) } }), 'enrollment');
      return hold(keys.keyPem, (JSON.parse(response.body) as { certificate: string }).certificate, options.service);
    } finally {
      await enrollAgent.close();
    }
  }

  // 2. Enroll.
  let held: Held = await enrollWith(firstToken, anchor);
  logger.info({ spiffeId: held.spiffeId, serial: held.serial, notAfter: held.leaf.notAfter.toISOString() }, 'workload identity enrolled');

  // 3. Trust from the CA itself, verified against the anchor.
  let agent: Agent = caAgent({ ca: anchor, trustDomain: held.trustDomain, key: held.key, cert: held.chainPem });
  const etags: Record<string, string | undefined> = {};
  const bodies: Record<string, string> = {};
  async function fetchDoc(path: string): Promise<boolean> {
    const response = await caCall(agent, `${caUrl}${path}`, { etag: etags[path] });
    if (response.status === 304) return false;
    expectOk(response, `GET ${path}`);
    etags[path] = response.etag;
    const changed = bodies[path] !== response.body;
    bodies[path] = response.body;
    return changed;
  }
  async function loadTrust(): Promise<TrustState> {
    await fetchDoc('/pki/bundle.pem');
    await fetchDoc('/pki/crl/root.crl');
    await fetchDoc('/pki/crl/intermediate.crl');
    await fetchDoc('/pki/intermediates.pem');
    return buildTrust(bodies['/pki/bundle.pem']!, { root: bodies['/pki/crl/root.crl']!, intermediate: bodies['/pki/crl/intermediate.crl']! }, held.intermediates, bodies['/pki/intermediates.pem']);
  }
  let trust = await loadTrust();
  // The bundle came over TLS verified against the anchor: from now on the CA may present a
  // certificate from any root in it (after a CA rotation, the new one).
  const anchorAgent = agent;
  agent = caAgent({ ca: trust.bundlePem, trustDomain: held.trustDomain, key: held.key, cert: held.chainPem });
  void anchorAgent.close().catch(() => {});
  let version = 1;
  let closed = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let warnedFor: string | undefined;
  let renewing: Promise<void> | undefined;

  const rebuildAgent = () => {
    const old = agent;
    agent = caAgent({ ca: trust.bundlePem, trustDomain: held.trustDomain, key: held.key, cert: held.chainPem });
    void old.close().catch(() => {});
  };
  const changed = (event: IdentityEvent) => {
    version += 1;
    emitter.emit('changed', event);
  };
  const lifetimeMs = () => held.leaf.notAfter.getTime() - held.leaf.notBefore.getTime();
  const expiresIn = () => Math.max(0, Math.floor((held.leaf.notAfter.getTime() - Date.now()) / 1000));

  async function renewOnce(): Promise<void> {
    const next = await keyAndCsr(options);
    const response = expectOk(await caCall(agent, `${caUrl}/pki/renew`, { method: 'POST', json: { csr: next.csr, ...(options.ttl ? { ttl: options.ttl } : {}) } }), 'renewal');
    const renewed = hold(next.keyPem, (JSON.parse(response.body) as { certificate: string }).certificate, options.service);
    held = renewed;
    rebuildAgent();
    logger.info({ spiffeId: held.spiffeId, serial: held.serial, notAfter: held.leaf.notAfter.toISOString() }, 'workload certificate renewed');
    changed({ type: 'renewed', serial: held.serial, notAfter: held.leaf.notAfter });
  }

  const expired = () => Date.now() >= held.leaf.notAfter.getTime();

  /** The CA refused to renew a certificate it no longer renews: expired (beyond its grace) or unknown to it. */
  const renewalImpossible = (error: unknown) =>
    error instanceof CaRequestError && error.code === 'certificate_rejected' && (expired() || error.reason === 'expired' || error.reason === 'unknown_certificate');

  /** Roots to verify the CA against when enrolling with `token`: ours, or the root it pins if we do not know it (the CA rotated meanwhile). */
  async function rootsFor(token: string): Promise<string> {
    const fingerprint = parseJoinToken(token)?.rootFingerprint;
    if (options.caBundle || !fingerprint || trust.roots.some((root) => fingerprintSha256(root) === fingerprint)) return trust.bundlePem;
    return bootstrapRoot(caUrl, fingerprint);
  }

  /** Enrolls again with a fresh token; false when there is none (yet). */
  async function reenroll(): Promise<boolean> {
    const token = tokens.fresh();
    if (token === undefined) return false;
    held = await enrollWith(token, await rootsFor(token), held.trustDomain);
    rebuildAgent();
    logger.info({ spiffeId: held.spiffeId, serial: held.serial, notAfter: held.leaf.notAfter.toISOString() }, 'workload identity re-enrolled with a fresh join token');
    const event: IdentityEvent = { type: 'reenrolled', serial: held.serial, notAfter: held.leaf.notAfter };
    emitter.emit('reenrolled', event);
    changed(event);
    return true;
  }

  /** Why the last attempt failed: the CA not reached, refused, or refused and no fresh join token to enroll with. */
  type Failure = 'unreachable' | 'refused' | 'no_token';
  let failure: Failure | undefined;
  let failures = 0;
  let reported: string | undefined;

  /** One attempt: renew; when the CA no longer renews this certificate, enroll again with a fresh token. */
  async function renewOrEnroll(): Promise<void> {
    try {
      await renewOnce();
    } catch (error) {
      if (!renewalImpossible(error)) throw error;
      if (!(await reenroll())) throw new NoFreshJoinToken(error);
    }
  }

  function scheduleRenewal(delay?: number): void {
    if (closed) return;
    if (renewTimer) clearTimeout(renewTimer);
    const due = delay ?? renewalDelay(held.leaf.notBefore.getTime(), held.leaf.notAfter.getTime(), renewAt, Date.now());
    renewTimer = setTimeout(() => void runRenewal(), Math.max(0, Math.min(due, 2 ** 31 - 1)));
    renewTimer.unref();
  }

  /** Says why an expired certificate is not replaced — once per certificate and cause, not at every retry. */
  function reportExpired(kind: Failure, error: unknown): void {
    const key = `${held.serial}:${kind}`;
    if (reported === key) return;
    reported = key;
    const base = { err: error, spiffeId: held.spiffeId, serial: held.serial, notAfter: held.leaf.notAfter.toISOString() };
    if (kind === 'unreachable') logger.error(base, 'the workload certificate has expired and the CA is unreachable; retrying');
    else if (kind === 'no_token' && tokens.renewable) logger.error(base, `the workload certificate has expired and the CA will not renew it: waiting for a fresh join token in ${tokens.where} to enroll again`);
    else if (kind === 'no_token') logger.error(base, 'the workload certificate has expired and the CA will not renew it: restart with a fresh join token, or give joinTokenFile / joinTokenEnv so the workload can enroll again by itself');
    else logger.error(base, 'the workload certificate has expired and its renewal was refused; retrying');
  }

  async function runRenewal(): Promise<void> {
    if (closed || renewing) return;
    if (renewTimer) clearTimeout(renewTimer);
    renewing = renewOrEnroll();
    try {
      await renewing;
      failure = undefined;
      failures = 0;
      scheduleRenewal();
    } catch (error) {
      failure = error instanceof NoFreshJoinToken ? 'no_token' : error instanceof CaRequestError && error.status !== undefined ? 'refused' : 'unreachable';
      const left = held.leaf.notAfter.getTime() - Date.now();
      // Never scheduled past the certificate's expiry while it is valid.
      const retryIn = retryDelayWithin(retry, failures, left);
      failures += 1;
      if (expired()) reportExpired(failure, error);
      else logger.warn({ err: error, attempt: failures, retryIn, expiresIn: expiresIn() }, 'certificate renewal failed; keeping the current certificate and retrying');
      emitter.emit('renewal_failed', { type: 'renewal_failed', attempt: failures, error: error as Error, retryIn });
      warnIfClose();
      scheduleRenewal(retryIn);
    } finally {
      renewing = undefined;
    }
  }

  /**
   * After a trust reload: a failed renewal waiting for its retry runs at once when the reload
   * reached the CA the renewal could not, or when a fresh join token has appeared.
   */
  function retryEarly(caAnswered: boolean): void {
    if (failure === undefined || renewing || closed) return;
    if ((failure === 'unreachable' && caAnswered) || (failure === 'no_token' && tokens.fresh() !== undefined)) void runRenewal();
  }

  function warnIfClose(): void {
    const left = held.leaf.notAfter.getTime() - Date.now();
    if (left < lifetimeMs() * warnAt && warnedFor !== held.serial) {
      warnedFor = held.serial;
      logger.warn({ spiffeId: held.spiffeId, serial: held.serial, secondsLeft: Math.floor(left / 1000) }, 'workload certificate expires soon and is not renewed yet');
      emitter.emit('expiring', { type: 'expiring', secondsLeft: Math.floor(left / 1000) });
    }
  }

  async function refreshTrust(): Promise<boolean> {
    const before = trust;
    const next = await loadTrust();
    const same = next.bundlePem === before.bundlePem && next.crlPems.root === before.crlPems.root && next.crlPems.intermediate === before.crlPems.intermediate;
    if (next.crlNextUpdate < Date.now()) logger.warn({ nextUpdate: new Date(next.crlNextUpdate).toISOString() }, 'the CRL is past nextUpdate: the CA has not re-signed it; keeping the last one');
    if (same) return false;
    trust = next;
    if (next.bundlePem !== before.bundlePem) rebuildAgent();
    changed({ type: 'trust', revoked: trust.revoked.size });
    return true;
  }

  function crlStale(): string | undefined {
    if (Date.now() <= trust.crlNextUpdate + maxCrlStaleness) return undefined;
    return `the CRL expired at ${new Date(trust.crlNextUpdate).toISOString()} and is more than ${Math.round(maxCrlStaleness / 1000)} s stale (maxCrlStaleness): revocation status unknown`;
  }

  let staleReportedFor: number | undefined;
  /** Logs and emits `crl_stale` once per stale CRL. */
  function reportStale(): void {
    const reason = crlStale();
    if (reason === undefined || staleReportedFor === trust.crlNextUpdate) return;
    staleReportedFor = trust.crlNextUpdate;
    logger.error({ nextUpdate: new Date(trust.crlNextUpdate).toISOString(), maxCrlStaleness }, `refusing mTLS peers: ${reason}`);
    emitter.emit('crl_stale', { type: 'crl_stale', nextUpdate: new Date(trust.crlNextUpdate), reason });
  }

  function scheduleRefresh(): void {
    if (closed) return;
    refreshTimer = setTimeout(async () => {
      let caAnswered = false;
      try {
        await refreshTrust();
        caAnswered = true;
      } catch (error) {
        logger.warn({ err: error }, 'could not reload the trust bundle and CRLs; keeping the last ones');
      }
      retryEarly(caAnswered);
      warnIfClose();
      reportStale();
      scheduleRefresh();
    }, refreshInterval);
    refreshTimer.unref();
  }

  const stopReporting = options.registry ? reportExpiry(options.registry, options.service, expiresIn) : () => {};

  scheduleRenewal();
  scheduleRefresh();

  return {
    service: options.service,
    get spiffeId() { return held.spiffeId; },
    get trustDomain() { return held.trustDomain; },
    get serial() { return held.serial; },
    get notBefore() { return held.leaf.notBefore; },
    get notAfter() { return held.leaf.notAfter; },
    get version() { return version; },
    credentials: () => ({ key: held.key, cert: held.chainPem, ca: trust.bundlePem }),
    isRevoked: (serial) => trust.revoked.has(serial),
    crlStale() {
      const reason = crlStale();
      if (reason !== undefined) reportStale();
      return reason;
    },
    expiresIn,
    async renewNow() {
      if (renewing) return renewing;
      renewing = renewOrEnroll();
      try {
        await renewing;
      } finally {
        renewing = undefined;
      }
      failure = undefined;
      failures = 0;
      scheduleRenewal();
    },
    refreshTrust,
    on: (event: string, listener: (event: IdentityEvent) => void) => void emitter.on(event, listener),
    off: (event: string, listener: (event: IdentityEvent) => void) => void emitter.off(event, listener),
    async close() {
      closed = true;
      stopReporting();
      if (renewTimer) clearTimeout(renewTimer);
      if (refreshTimer) clearTimeout(refreshTimer);
      emitter.removeAllListeners();
      await agent.close().catch(() => {});
    },
  };
}
