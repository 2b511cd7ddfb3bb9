/**
 * The contract of request verification, shared by the gateway and every service that uses the
 * SDK: a `Verifier` turns the access token a request carries into an `Identity`, or refuses it
 * with a `VerificationError`. Both sides apply the same rules (./README in docs/sdk.md).
 */
// The pure decision module, not policy/index.ts (which also carries the /policy HTTP route).
import type { Decision } from '../../policy/decide.ts';

/** Who is calling, from a verified RFC 9068 access token plus the published policy. */
export interface Identity {
  /** `service`: a client_credentials token (`sub` = `client_id`, no `sid`); `user` otherwise. */
  readonly kind: 'user' | 'service';
  /** `sub`. */
  readonly subject: string;
  readonly clientId: string;
  /** `sid`, for a user's browser session. */
  readonly sessionId: string | undefined;
  /** `jti`. */
  readonly tokenId: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /**
   * `"scope_bound": true`: the token may do only what its scopes cover (a personal API token's
   * exchanged token, a third-party app's token). Decisions and `permissions` are then roles ∩ scopes.
   */
  readonly scopeBound: boolean;
  /** What `roles` grant under the policy the Security Service publishes (sorted, deduplicated); for a scope-bound token only what its scopes also cover. */
  readonly permissions: readonly string[];
  /** Epoch seconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** Every claim of the token, as verified. */
  readonly claims: Readonly<Record<string, unknown>>;
  hasScope(scope: string): boolean;
  hasRole(role: string): boolean;
  /** `identity.can('orders:refund')`, `identity.can('orders:read', { ownerId })` (`:own` grants need the owner). */
  can(permission: string, context?: { ownerId?: string | undefined }): boolean;
  /** As `can`, with the reason (a value; never throws for a denial). */
  decide(permission: string, context?: { ownerId?: string | undefined }): Decision;
}

/** Why a token was refused. `reason` is for logs only: never send it to the client. */
export class VerificationError extends Error {
  readonly code: 'invalid_token';
  readonly reason: string;
  constructor(reason: string) {
    super('The access token is invalid, expired or revoked');
    this.name = 'VerificationError';
    this.code = 'invalid_token';
    this.reason = reason;
  }
}

/**
 * The token could not be checked because the issuer's keys were never loaded (discovery or JWKS
 * unreachable since start): its validity is unknown. Answer 503, not 401.
 */
export class VerifierUnavailableError extends Error {
  readonly code: 'temporarily_unavailable';
  readonly reason: string;
  constructor(reason: string) {
    super('The issuer\'s keys are not available yet');
    this.name = 'VerifierUnavailableError';
    this.code = 'temporarily_unavailable';
    this.reason = reason;
  }
}

export interface VerifierStatus {
  /** The issuer's keys were fetched at least once and the last fetch did not fail. */
  jwks: boolean;
  /** The role → permissions policy is loaded. */
  policy: boolean;
  /** Connected to the security-event stream (revocations arrive), or false when it is not configured. */
  events: boolean;
}

export interface Verifier {
  /** Resolves to the caller's identity; rejects with `VerificationError` for any bad token. */
  verify(token: string): Promise<Identity>;
  /**
   * The identity of a token `verify()` accepted before, when it is still cached and still valid
   * (unexpired, not revoked since), without a promise; undefined means "ask `verify()`". For a
   * hot path where most requests repeat a token (the gateway).
   */
  verifyCached(token: string): Identity | undefined;
  status(): VerifierStatus;
  /** All of `status()` is true. */
  ready(): boolean;
  /** Version of the policy in use, once loaded. */
  readonly policyVersion: string | undefined;
  /** Since start: tokens answered from the verified-token cache (verify() or verifyCached()), and verify() calls that were not (for metrics). */
  stats(): { cacheHits: number; cacheMisses: number };
  close(): Promise<void>;
}

/** A source of service access tokens (client credentials): cached, renewed before expiry, single-flight. */
export interface TokenSource {
  token(): Promise<string>;
  close(): void;
}
