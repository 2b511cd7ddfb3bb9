/** Personal API token test helpers: a gateway-like client and the RFC 8693 exchange at /oauth2/token. */
import { basic, tokenRequest, type OAuthFixture } from '../oauth/helpers.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_TOKEN_TYPE = 'urn:gatehouse:params:oauth:token-type:api-token';

export interface ExchangeClient { clientId: string; secret: string }

/** Registers a service client like the gateway's: client_credentials + `tokens:exchange` (unless `scope` says otherwise). */
export async function registerExchangeClient(fx: OAuthFixture, clientId = 'gateway', scope = 'tokens:exchange tokens:introspect events:read'): Promise<ExchangeClient> {
  const { secret } = await fx.svc.service.context.oauth.clients.create({ clientId, name: clientId, firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope }, 'test');
  return { clientId, secret: secret! };
}

export function exchange(fx: OAuthFixture, client: ExchangeClient, token: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  const form = { grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: API_TOKEN_TYPE, ...extra };
  if (Object.keys(headers).length === 0) return tokenRequest(fx.issuer, form, basic(client.clientId, client.secret));
  return fetch(`${fx.issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.clientId, client.secret), ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** Creates a token for `userId` through the service (as the CLI, admin API and account page do). */
export async function makeToken(fx: OAuthFixture, userId: string, options: { name?: string; scopes?: string[]; expiresIn?: number } = {}) {
  return fx.svc.service.context.apiTokens.create({ userId, name: options.name ?? `t-${Math.random().toString(36).slice(2, 8)}`, scopes: options.scopes ?? ['orders:read'], expiresIn: options.expiresIn ?? 86400 }, `user:${userId}`);
}
