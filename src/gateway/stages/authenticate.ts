/**
 * Stage 8 — authenticate (routes with `auth: authenticated`): the first authenticator that finds
 * a token (Authorization: Bearer, then the sign-in session) hands it to the verifier, which checks
 * signature, issuer, audience, lifetime and revocation (pushed by the Security Service's event
 * stream, never polled per request). None → 401 with `WWW-Authenticate: Bearer`; a bad one →
 * 401 `error="invalid_token"` (RFC 6750 §3.1); the issuer's keys never loaded → 503. `public`
 * and `passthrough` routes skip this stage.
 */
import { GatehouseError, isGatehouseError } from '../../shared/errors.ts';
import { bearerError } from '../../shared/bearer-challenge.ts';
import { VerificationError, VerifierUnavailableError } from '../../sdk/index.ts';
import type { Authenticator } from '../authenticators.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function authenticate(exchange: Exchange, state: GatewayState): Outcome | Promise<Outcome> {
  if (exchange.route!.auth !== 'authenticated') return undefined;
  return authenticateCaller(exchange, state);
}

async function authenticateCaller(exchange: Exchange, state: GatewayState): Promise<Outcome> {
  for (const authenticator of state.authenticators) {
    let credential = authenticator.credential(exchange);
    if (credential instanceof Promise) credential = await credential;
    if (credential === undefined) continue;
    if (isGatehouseError(credential)) {
      // forbidden: the session cookie authenticated a state change from another origin.
      exchange.decision = credential.code === 'forbidden' ? 'cross_origin' : 'invalid_token';
      return credential;
    }
    return verify(exchange, state, authenticator, credential);
  }
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
    return bearerError('invalid_token', 'The access token is invalid, expired or revoked', `${authenticator.name} token refused: ${error.reason}`);
  }
  exchange.token = token;
  exchange.tokenSource = authenticator.name;
  return undefined;
}
