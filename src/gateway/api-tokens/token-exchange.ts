/**
 * One personal API token → one short-lived access token (JWT), at the Security Service's token
 * endpoint: RFC 8693 token exchange with the gateway's own client credentials, done by
 * openid-client (`genericGrantRequest`: client authentication, the form, the response checks).
 *
 *   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
 *   subject_token=gth_…  subject_token_type=urn:gatehouse:params:oauth:token-type:api-token
 *   resource=<the gateway's audience>
 *
 * The end client's address goes along as `X-Forwarded-For` (the Security Service believes it from
 * its trusted proxies only), so the token's last-used address is the caller's, not the gateway's.
 * Each exchange gets its own openid-client Configuration (server metadata discovered once) whose
 * fetch adds that header: exchanges are rare (one per token per access-token lifetime).
 *
 * `invalid_grant` is the only answer that blames the token (unknown, expired, revoked, owner
 * disabled → 401 at the gateway); anything else — unreachable, 5xx, the gateway's own client
 * refused (`unauthorized_client`: it lacks scope tokens:exchange) — says nothing about the token
 * and is "unavailable" (503), logged for the operator. Nothing here logs a token.
 */
import * as oidc from 'openid-client';
import type { Logger } from '../../shared/logger.ts';
import { failureCode, internalUrlMapper } from '../session/relying-party.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_TOKEN_TYPE = 'urn:gatehouse:params:oauth:token-type:api-token';

export type ExchangeResult =
  | { readonly kind: 'issued'; readonly accessToken: string; /** Seconds. */ readonly expiresIn: number }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export type TokenExchanger = (apiToken: string, clientAddress: string) => Promise<ExchangeResult>;

export interface TokenExchangeOptions {
  issuer: string;
  /** Internal base URL of the Security Service (`gateway.securityService`); the issuer when unset. */
  internalBase: string | undefined;
  clientId: string;
  clientSecret: string;
  /** RFC 8707 resource: the audience the gateway accepts. */
  audience: string;
  fetch: typeof fetch;
  logger: Logger;
}

/** Seconds an exchange may take. */
const TIMEOUT = 5;
/** When the answer has no expires_in (the contract requires it): assume a minute. */
const DEFAULT_LIFETIME = 60;

export function createTokenExchanger(options: TokenExchangeOptions): TokenExchanger {
  const toInternal = internalUrlMapper(options.issuer, options.internalBase);
  const insecure = new URL(options.issuer).protocol === 'http:';
  const plainFetch: oidc.CustomFetch = (url, init) => options.fetch(toInternal(url), init as RequestInit);
  const clientAuth = oidc.ClientSecretBasic(options.clientSecret);
  let discovered: Promise<oidc.ServerMetadata> | undefined;
  const metadata = () =>
    (discovered ??= oidc
      .discovery(new URL(options.issuer), options.clientId, undefined, clientAuth, { [oidc.customFetch]: plainFetch, timeout: TIMEOUT, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) })
      .then((configuration) => configuration.serverMetadata())
      .catch((error: unknown) => {
        discovered = undefined; // discover again next time
        throw error;
      }));

  return async (apiToken, clientAddress) => {
    try {
      const configuration = new oidc.Configuration(await metadata(), options.clientId, undefined, clientAuth);
      configuration.timeout = TIMEOUT;
      if (insecure) oidc.allowInsecureRequests(configuration);
      configuration[oidc.customFetch] = (url, init) => {
        const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
        headers.set('x-forwarded-for', clientAddress);
        return options.fetch(toInternal(url), { ...(init as RequestInit), headers });
      };
      const response = await oidc.genericGrantRequest(configuration, TOKEN_EXCHANGE_GRANT, {
        subject_token: apiToken,
        subject_token_type: API_TOKEN_TYPE,
        resource: options.audience,
      });
      return { kind: 'issued', accessToken: response.access_token, expiresIn: response.expiresIn() ?? DEFAULT_LIFETIME };
    } catch (error) {
      const reason = failureCode(error);
      if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') return { kind: 'refused', reason };
      options.logger.error({ reason, status: (error as { status?: number }).status }, 'exchanging a personal API token at the Security Service failed (not the token\'s fault: check that the gateway\'s client has scope tokens:exchange and the service is up)');
      return { kind: 'unavailable', reason };
    }
  };
}
