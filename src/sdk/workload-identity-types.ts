/**
 * The public shape of a workload identity (./workload-identity.ts): its options, events and
 * interface. Types only.
 */
import type { Registry } from 'prom-client';
import type { JoinTokenOptions } from './join-token-source.ts';

export interface SdkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkloadIdentityOptions extends JoinTokenOptions {
  /** https URL of the Gatehouse CA TLS listener, e.g. https://localhost:8443. */
  caUrl: string;
  service: string;
  /**
   * From `gatehouse ca token --service <service>`; carries the root fingerprint to pin. Give
   * `joinTokenFile` or `joinTokenEnv` (re-read at every attempt) instead or as well, so a
   * workload whose certificate expired can enroll again with a fresh token, without a restart.
   */
  joinToken?: string | undefined;
  /** Overrides the fingerprint carried by the token. */
  caFingerprint?: string;
  /** PEM roots to trust instead of pinning a fingerprint. */
  caBundle?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Requested lifetime in seconds (the CA caps it). */
  ttl?: number;
  /** Fraction of the lifetime after which to renew. Default 2/3. */
  renewAt?: number;
  /** Remaining fraction of the lifetime below which expiry is "close" (logged). Default 1/6. */
  warnAt?: number;
  /** How often to reload the bundle and CRLs, ms. Default 5000. */
  refreshInterval?: number;
  /** Renewal retries: initialDelay 1000 ms doubling up to maxDelay 30 000 ms, `equal` jitter ([d/2, d]) or `full` ([0, d]). */
  retry?: { initialDelay?: number; maxDelay?: number; jitter?: 'full' | 'equal' };
  logger?: SdkLogger;
  /** prom-client registry for `gatehouse_workload_certificate_expiry_seconds`. */
  registry?: Registry;
  /**
   * How long past its nextUpdate a CRL is still trusted, ms. Default 24 h. Beyond it the
   * revocation status of peers is unknown: createMtlsServer refuses callers (503) and mtlsAgent
   * refuses servers until a fresh CRL arrives (a CA outage shorter than this changes nothing).
   */
  maxCrlStaleness?: number;
}

export interface Credentials {
  key: string;
  /** Leaf + intermediate. */
  cert: string;
  /** Roots to trust. */
  ca: string;
}

export type IdentityEvent =
  | { type: 'renewed'; serial: string; notAfter: Date }
  | { type: 'trust'; revoked: number }
  | { type: 'renewal_failed'; attempt: number; error: Error; retryIn: number }
  | { type: 'reenrolled'; serial: string; notAfter: Date }
  | { type: 'expiring'; secondsLeft: number }
  | { type: 'crl_stale'; nextUpdate: Date; reason: string };

export interface WorkloadIdentity {
  readonly service: string;
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Bumps on every change of credentials or trust. */
  readonly version: number;
  credentials(): Credentials;
  isRevoked(serial: string): boolean;
  /** Why peers cannot be trusted now (a CRL more than `maxCrlStaleness` past nextUpdate), or undefined. */
  crlStale(): string | undefined;
  /** Seconds until the current certificate expires. */
  expiresIn(): number;
  renewNow(): Promise<void>;
  refreshTrust(): Promise<boolean>;
  on(event: 'changed', listener: (event: IdentityEvent) => void): void;
  on(event: 'renewal_failed' | 'reenrolled' | 'expiring' | 'crl_stale', listener: (event: IdentityEvent) => void): void;
  off(event: string, listener: (event: IdentityEvent) => void): void;
  close(): Promise<void>;
}
