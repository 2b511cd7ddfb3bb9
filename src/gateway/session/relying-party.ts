/**
 * The gateway as an OpenID Connect relying party of the Security Service: openid-client 6 does
 * the protocol (discovery, authorization code + PKCE S256 + state + nonce, `iss` check, token
 * endpoint with the client secret, refresh, revocation, RP-initiated logout URL).
 *
 * Back-channel calls may go to an internal address (`gateway.securityService`): a custom fetch
 * maps every URL under the issuer to that base, so discovery, token, JWKS and revocation requests
 * stay inside while the metadata — and the authorization and end-session URLs the browser is sent
 * to — keep naming the public issuer, which is also what every `iss` is checked against.
 *
 * ID tokens from the token endpoint have their signature checked too
 * (`enableNonRepudiationChecks`; openid-client skips it otherwise). openid-client refetches a JWKS
 * at most once a minute, which is safe here because the Security Service pre-publishes its next
 * signing key.
 */
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { scopeIncludes } from '../../shared/scope.ts';

/** What the gateway keeps of a token response. */
export interface Tokens {
  accessToken: string;
  /** Epoch seconds (from `expires_in`, else the JWT's `exp`). */
  accessTokenExpiresAt: number;
  refreshToken: string | undefined;
  idToken: string | undefined;
  sub: string | undefined;
}

export interface LoginChecks {
  verifier: string;
  state: string;
  nonce: string;
}

export interface RelyingParty {
  /** Where to send the browser to sign in (on the public issuer). */
  authorizationUrl(checks: LoginChecks): Promise<URL>;
  /** Checks the authorization response (`state`, `iss`, error) and redeems the code. */
  redeem(callbackUrl: URL, checks: LoginChecks, now: number): Promise<Tokens>;
  refresh(refreshToken: string, now: number): Promise<Tokens>;
  /** RFC 7009: ends the grant behind a refresh token. */
  revoke(refreshToken: string): Promise<void>;
  /** RP-initiated logout on the public issuer, ending at `postLogoutRedirectUri`. */
  endSessionUrl(idToken: string | undefined): Promise<URL>;
}

export interface RelyingPartyOptions {
  issuer: string;
  /** Internal base URL for back-channel calls; the issuer when unset. */
  internalBase: string | undefined;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** RFC 8707 resource: the audience the gateway accepts. */
  resource: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  fetch: typeof fetch;
}

/** Back-channel request timeout, seconds. */
const TIMEOUT = 10;

/** Maps URLs under `issuer` onto `base`; others unchanged. */
export function internalUrlMapper(issuer: string, base: string | undefined): (url: string) => string {
  const from = issuer.replace(/\/+$/, '');
  const to = base?.replace(/\/+$/, '');
  if (to === undefined || to === from) return (url) => url;
  return (url) => (url === from || url.startsWith(`${from}/`) || url.startsWith(`${from}?`) ? `${to}${url.slice(from.length)}` : url);
}

export function createRelyingParty(options: RelyingPartyOptions): RelyingParty {
  const toInternal = internalUrlMapper(options.issuer, options.internalBase);
  const customFetch: oidc.CustomFetch = (url, init) => options.fetch(toInternal(url), init as RequestInit);
  const execute = [oidc.enableNonRepudiationChecks, ...(new URL(options.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [])];
  // Offline access is only granted with prompt=consent (OpenID Connect Core §11); a first-party
  // client skips the consent page, so this costs the user nothing.
  const offline = scopeIncludes(options.scope, 'offline_access');

  let configuration: Promise<oidc.Configuration> | undefined;
  const rp = () =>
    (configuration ??= oidc
      // The timeout carries over to every later request of the configuration.
      .discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretBasic(options.clientSecret), { execute, [oidc.customFetch]: customFetch, timeout: TIMEOUT })
      .catch((error: unknown) => {
        configuration = undefined; // discover again next time
        throw error;
      }));

  return {
    async authorizationUrl(checks) {
      return oidc.buildAuthorizationUrl(await rp(), {
        redirect_uri: options.redirectUri,
        scope: options.scope,
        resource: options.resource,
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.verifier),
        code_challenge_method: 'S256',
        state: checks.state,
        nonce: checks.nonce,
        ...(offline ? { prompt: 'consent' } : {}),
      });
    },

    async redeem(callbackUrl, checks, now) {
      const response = await oidc.authorizationCodeGrant(
        await rp(),
        callbackUrl,
        { pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true },
        { resource: options.resource },
      );
      return tokensOf(response, now, undefined);
    },

    async refresh(refreshToken, now) {
      const response = await oidc.refreshTokenGrant(await rp(), refreshToken, { resource: options.resource });
      return tokensOf(response, now, refreshToken);
    },

    async revoke(refreshToken) {
      await oidc.tokenRevocation(await rp(), refreshToken, { token_type_hint: 'refresh_token' });
    },

    async endSessionUrl(idToken) {
      return oidc.buildEndSessionUrl(await rp(), {
        client_id: options.clientId,
        post_logout_redirect_uri: options.postLogoutRedirectUri,
        ...(idToken ? { id_token_hint: idToken } : {}),
      });
    },
  };
}

function tokensOf(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, now: number, previousRefreshToken: string | undefined): Tokens {
  const expiresIn = response.expiresIn();
  const exp = expiresIn !== undefined ? now + expiresIn : decodeJwt(response.access_token).exp;
  if (exp === undefined) throw new TypeError('the access token has neither expires_in nor exp');
  return {
    accessToken: response.access_token,
    accessTokenExpiresAt: exp,
    // Refresh tokens rotate; a response without one keeps the previous.
    refreshToken: response.refresh_token ?? previousRefreshToken,
    idToken: response.id_token,
    sub: response.claims()?.sub,
  };
}

/**
 * Whether a failure means the Security Service could not be reached or answered like a broken
 * server (502, try again later) rather than refusing this particular request (400 / session over).
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof oidc.ResponseBodyError) return error.status >= 500 || error.error === 'invalid_client' || error.error === 'unauthorized_client';
  if (error instanceof oidc.AuthorizationResponseError) return false;
  if (error instanceof oidc.ClientError) {
    return error.code === undefined || ['OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON', 'OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_INVALID_SERVER_METADATA', 'OAUTH_MISSING_SERVER_METADATA'].includes(error.code);
  }
  return error instanceof TypeError || (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'));
}

/** A short, token-free label of a failure for the log and the error page. */
export function failureCode(error: unknown): string {
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) return error.error;
  if (error instanceof oidc.ClientError) return error.code ?? 'client_error';
  if (error instanceof TypeError) return 'unreachable';
  return 'unexpected';
}
