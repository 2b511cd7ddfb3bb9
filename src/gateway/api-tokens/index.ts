/**
 * Personal API tokens at the gateway (docs/api-tokens-gateway.md): exchanged once at the Security
 * Service for a short-lived access token, cached by the token's digest, forwarded as that JWT.
 *
 *   ./authenticator.ts    Authorization: Bearer gth_… | Basic (…:gth_…) → the exchanged access token
 *   ./exchange-cache.ts   digest → access token; single-flight, background renewal, bounded
 *   ./token-exchange.ts   RFC 8693 at /oauth2/token with the gateway's client (openid-client)
 *   src/shared/api-token-format.ts  the token format, checked offline first
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../shared/logger.ts';
import type { Authenticator } from '../authenticators.ts';
import { apiTokenAuthenticator } from './authenticator.ts';
import { createExchangeCache } from './exchange-cache.ts';
import { createTokenExchanger, type TokenExchanger } from './token-exchange.ts';

export interface ApiTokenContext {
  config: Config;
  /** Where the gateway reaches the Security Service. */
  securityService: string;
  /** The audience the gateway accepts: asked for as the exchanged token's resource. */
  audience: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
  logger: Logger;
  /** The gateway's metrics registry: exchanges by outcome, cached tokens. */
  registry: Registry;
}

export function createApiTokenAuthenticator(context: ApiTokenContext): Authenticator {
  const settings = context.config.gateway.apiTokens;
  const exchange = createTokenExchanger({
    issuer: context.config.issuer,
    internalBase: context.securityService,
    clientId: context.clientId,
    clientSecret: context.clientSecret,
    audience: context.audience,
    fetch: context.fetch,
    logger: context.logger,
  });
  const exchanges = new Counter({ name: 'gatehouse_gateway_api_token_exchanges_total', help: 'Personal API tokens exchanged at the Security Service, by outcome (issued, refused, unavailable)', labelNames: ['outcome'], registers: [context.registry] });
  const counted: TokenExchanger = async (apiToken, clientAddress) => {
    const result = await exchange(apiToken, clientAddress);
    exchanges.labels(result.kind).inc();
    return result;
  };
  const cache = createExchangeCache({ exchange: counted, maxEntries: settings.cacheSize, refreshBefore: settings.refreshBefore * 1000, negativeTtl: settings.negativeCacheTtl * 1000 });
  new Gauge({ name: 'gatehouse_gateway_api_token_cache_entries', help: 'Exchanged access tokens held for personal API tokens', registers: [context.registry], collect() { this.set(cache.size); } });
  return apiTokenAuthenticator(cache);
}
