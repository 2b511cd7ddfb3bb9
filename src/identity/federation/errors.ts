/**
 * Why a sign-in through a provider failed, as one reason the pages and the audit log use:
 * - `provider_unavailable`: unreachable, too slow (its `timeout`), or answered 5xx;
 * - `provider_error`: it answered with an OAuth error (the user cancelled, an expired code …);
 * - `invalid_response`: its answer failed a check (state, iss, nonce, signature, audience …):
 *   `check` names which, for the audit row and the log.
 */
import * as oidc from 'openid-client';

export type FederationFailure = 'provider_unavailable' | 'provider_error' | 'invalid_response';

export class FederationError extends Error {
  readonly reason: FederationFailure;
  readonly provider: string;
  /** For invalid responses: `state`, `iss`, `nonce`, `key`, `signature` or `other`; for provider errors its OAuth error code. */
  readonly check: string | undefined;
  constructor(reason: FederationFailure, provider: string, message: string, options: { check?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FederationError';
    this.reason = reason;
    this.provider = provider;
    this.check = options.check;
  }
}

function isNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // openid-client wraps a timeout or abort of its own requests.
  if (error instanceof oidc.ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) return true;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  // undici: TypeError('fetch failed') with the socket error as cause.
  return error instanceof TypeError && error.message === 'fetch failed';
}

/** Which check of openid-client / oauth4webapi failed, from the processing error's message (diagnostics only: every one is refused alike). */
function checkOf(error: oidc.ClientError): string {
  const inner = error.cause instanceof Error ? error.cause.message : error.message;
  if (error.code === 'OAUTH_KEY_SELECTION_FAILED') return 'key';
  if (/signature/i.test(inner)) return 'signature';
  const named = /"(state|iss|nonce|aud|azp|sub)"/.exec(inner);
  return named ? named[1]! : 'other';
}

export function classify(provider: string, step: 'discovery' | 'callback', error: unknown): FederationError {
  if (error instanceof FederationError) return error;
  if (isNetworkFailure(error)) return new FederationError('provider_unavailable', provider, `${step}: the provider did not answer in time or could not be reached`, { cause: error });
  if (error instanceof oidc.AuthorizationResponseError) return new FederationError('provider_error', provider, `the provider refused: ${error.error}`, { check: error.error, cause: error });
  if (error instanceof oidc.ResponseBodyError) {
    if (error.status >= 500) return new FederationError('provider_unavailable', provider, `${step}: the provider answered ${error.status}`, { cause: error });
    return new FederationError('provider_error', provider, `the provider refused: ${error.error}`, { check: error.error, cause: error });
  }
  if (error instanceof oidc.ClientError) {
    // A discovery document that cannot be read, or a 5xx page instead of JSON: the provider is not working.
    if (step === 'discovery' || error.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || error.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      return new FederationError('provider_unavailable', provider, `${step}: ${error.message}`, { cause: error });
    }
    return new FederationError('invalid_response', provider, `the provider's answer failed a check: ${error.cause instanceof Error ? error.cause.message : error.message}`, { check: checkOf(error), cause: error });
  }
  if (step === 'discovery') return new FederationError('provider_unavailable', provider, `discovery failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  return new FederationError('invalid_response', provider, `the provider's answer could not be used: ${(error as Error)?.message ?? String(error)}`, { check: 'other', cause: error });
}
