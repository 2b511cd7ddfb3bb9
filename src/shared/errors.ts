/**
 * One error model for the whole service.
 *
 * Every error that reaches a client is a `GatehouseError`: a stable `code` from the catalogue
 * below, the HTTP status that goes with it, a public `description` (safe to send) and a private
 * `detail` (logged, never sent). OAuth endpoints render these as RFC 6749 §5.2 errors, everything
 * else as RFC 9457 problem details (see ./problem.ts). Misuse of our own API is a `TypeError`;
 * hostile or broken input is a coded error.
 *
 * docs/errors.md documents every code; test/errors-catalogue.test.ts keeps the two in step.
 */

export const errorCatalogue = {
  // generic request errors
  invalid_request: { status: 400, title: 'The request is malformed' },
  validation_failed: { status: 422, title: 'The request body failed validation' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request body has an unsupported content type' },
  not_found: { status: 404, title: 'No such resource' },
  conflict: { status: 409, title: 'The resource already exists or changed meanwhile' },
  key_not_ready: { status: 409, title: 'The next signing key has not been published long enough to sign' },
  // authentication and authorization of API callers
  unauthorized: { status: 401, title: 'Authentication is required' },
  invalid_token: { status: 401, title: 'The access token is missing, malformed, expired or revoked' },
  forbidden: { status: 403, title: 'The caller is not allowed to do this' },
  insufficient_scope: { status: 403, title: 'The access token lacks a required role or scope' },
  // identity
  weak_password: { status: 422, title: 'The password does not meet the password policy' },
  user_disabled: { status: 403, title: 'The user account is disabled' },
  // pki
  invalid_csr: { status: 400, title: 'The certificate signing request is invalid' },
  invalid_join_token: { status: 401, title: 'The join token is unknown, expired or already used' },
  identity_not_allowed: { status: 403, title: 'The request asks for an identity the credential does not grant' },
  certificate_rejected: { status: 401, title: 'The client certificate is missing, invalid or revoked' },
  key_not_allowed: { status: 403, title: 'The public key may not be certified for this identity (a CA key, a key certified for another service, or a revoked one)' },
  // abuse
  rate_limited: { status: 429, title: 'Too many failed requests from this address' },
  // infrastructure
  store_unavailable: { status: 503, title: 'The data store is unavailable; nothing was changed' },
  server_busy: { status: 503, title: 'The service is busy; nothing was changed, try again shortly' },
  internal_error: { status: 500, title: 'An unexpected error occurred; nothing was changed' },
  // the API gateway
  method_not_allowed: { status: 405, title: 'The resource does not support this method' },
  uri_too_long: { status: 414, title: 'The request target is too long' },
  header_too_large: { status: 431, title: 'The request headers are too large' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  bad_gateway: { status: 502, title: 'The upstream service could not be reached' },
  gateway_timeout: { status: 504, title: 'The upstream service did not answer in time' },
  temporarily_unavailable: { status: 503, title: 'The access token cannot be checked yet: the issuer\'s keys are not available' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface GatehouseErrorOptions {
  /** Private detail for the log. Never sent to the client. */
  detail?: string;
  cause?: unknown;
  /** Extra members for the problem document (RFC 9457 §3.2), e.g. `errors` or `retryAfter`. */
  extensions?: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Public, human-readable explanation specific to this occurrence. */
  readonly description: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, description?: string, options: GatehouseErrorOptions = {}) {
    const entry = errorCatalogue[code];
    super(description ?? entry.title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = entry.status;
    this.description = description ?? entry.title;
    this.detail = options.detail;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError;
}

/** Throw-helpers that read well at the call site. */
export const fail = {
  notFound: (what: string) => new GatehouseError('not_found', `${what} was not found`),
  conflict: (description: string) => new GatehouseError('conflict', description),
  invalid: (description: string, detail?: string) =>
    new GatehouseError('invalid_request', description, detail === undefined ? {} : { detail }),
};
