/**
 * Stage 8 — authenticate (routes with `auth: authenticated`): the first authenticator that finds
 * a token (a personal API token exchanged for an access token, Authorization: Bearer, then the
 * sign-in session) hands it to the verifier, which checks
 * signature, issuer, audience, lifetime and revocation (pushed by the Security Service's event
 * stream, never polled per request). None → 401 with `WWW-Authenticate: Bearer`; a bad one →
 * 401 `error="invalid_token"` (RFC 6750 §3.1); the issuer's keys never loaded → 503. `public`
 * and `passthrough` routes skip this stage. Most requests repeat a token verified before: the
 * verifier's cache answers those without a promise, so the stage stays synchronous for them.
 */
import { GatehouseError, isGatehouseError } from '../../shared/errors.ts';
import { bearerError } from '../../shared/bearer-challenge.ts';
import { VerificationError, VerifierUnavailableError } from '../../sdk/index.ts';
import type { Authenticator, Credential } from '../authenticators.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function authenticate(exchange: Exchange, state: GatewayState): Outcome | Promise<Outcome> {
  if (exchange.route!.auth !== 'authenticated') return undefined;
  const authenticators = state.authenticators;
  for (let i = 0; i < authenticators.length; i++) {
    const authenticator = authenticators[i]!;
    const credential = authenticator.credential(exchange);
    if (credential instanceof Promise) return authenticateFrom(exchange, state, i, credential);
    if (credential !== undefined) return useCredential(exchange, state, authenticator, credential);
  }
  return noCredential(exchange);
}

/** The rest of the authenticators once one had to look its credential up asynchronously (the session). */
async function authenticateFrom(exchange: Exchange, state: GatewayState, first: number, pending: Promise<Credential>): Promise<Outcome> {
  const authenticators = state.authenticators;
  for (let i = first; i < authenticators.length; i++) {
    const credential = i === first ? await pending : await authenticators[i]!.credential(exchange);
    if (credential !== undefined) return useCredential(exchange, state, authenticators[i]!, credential);
  }
  return noCredential(exchange);
}

/** A token goes to the verifier (a token it accepted before answers without a promise); a broken credential is refused as it is. */
function useCredential(exchange: Exchange, state: GatewayState, authenticator: Authenticator, credential: string | GatehouseError): Outcome | Promise<Outcome> {
  if (isGatehouseError(credential)) {
    // forbidden: the session cookie authenticated a state change from another origin;
    // temporarily_unavailable: a personal API token could not be exchanged (Security Service down).
    exchange.decision = credential.code === 'forbidden' ? 'cross_origin' : credential.code === 'temporarily_unavailable' ? 'not_ready' : 'invalid_token';
    return credential;
  }
  const known = state.verifier.verifyCached(credential);
  if (known === undefined) return verify(exchange, state, authenticator, credential);
  exchange.caller = known;
  exchange.token = credential;
  exchange.tokenSource = authenticator.name;
  return undefined;
}

function noCredential(exchange: Exchange): Outcome {
  exchange.decision = 'no_token';
  return bearerError('unauthorized', 'A bearer access token is required');
}

async function verify(exchange: Exchange, state: GatewayState, authenticator: Authenticator, token: string): Promise<Outcome> {
  try {
    exchange.caller = await state.verifier.verify(token);
  } catch (error) {
    if (error instanceof VerifierUnavailableError) {
      // The issuer's keys were never loaded: the token's validity is unknown, not disproved.
      exchange.decision = 'not_ready';
      return new GatehouseError('temporarily_unavailable', undefined, { detail: error.reason, headers: { 'retry-after': '5' } });
    }
    if (!(error instanceof VerificationError)) throw error;
    exchange.decision = 'invalid_token';
    if (authenticator.name === 'session' && state.session !== undefined) {
      // The session's token is dead (revoked with its grant, or the user disabled): the session is
      // over. Clearing the cookie and answering like "no credentials" sends a browser to sign in.
      state.session.discard(exchange);
      return bearerError('unauthorized', 'The session has ended; sign in again', `session token refused: ${error.reason}`);
    }
    // A personal API token's exchanged token was revoked: the authenticator forgets it too.
    if (authenticator.refused !== undefined) return authenticator.refused(exchange, token, error.reason);
    return bearerError('invalid_token', 'The access token is invalid, expired or revoked', `${authenticator.name} token refused: ${error.reason}`);
  }
  exchange.token = token;
  exchange.tokenSource = authenticator.name;
  return undefined;
}
