/**
 * Builds one oidc-provider instance from the configuration and wires its events into the request
 * state our middleware reads. All provider state lives in the adapter, so a new instance (after a
 * key rotation) can replace the old one at any moment.
 */
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { Logger } from '../shared/logger.ts';
import { matchesStoredSecret } from './client-auth.ts';
import { auditRegistrationRefusals } from './dynamic-registration.ts';
import { providerConfiguration, type ProviderConfigDeps } from './provider-config.ts';
import { createProviderMiddleware, type MiddlewareDeps } from './middleware.ts';
import { requestState } from './request-state.ts';
import { ConsumedTwiceError } from './adapter.ts';
import { registerTokenExchange, type TokenExchangeDeps } from './token-exchange.ts';

export interface BuildProviderDeps extends ProviderConfigDeps, MiddlewareDeps, Omit<TokenExchangeDeps, 'resourceIndicators'> {
  config: Config;
  logger: Logger;
}

export function buildProvider(deps: BuildProviderDeps): Provider {
  const configuration = providerConfiguration(deps);
  // Read before the provider takes the configuration over: the exchange grant resolves audiences with them.
  const resourceIndicators = { ...configuration.features!.resourceIndicators! };
  const provider = new Provider(deps.config.issuer, configuration);
  registerTokenExchange(provider, { ...deps, resourceIndicators });
  // The mount (./mount.ts) rewrites every X-Forwarded-* header from trusted values before the
  // provider sees a request — the proto from the issuer, the client address as fastify resolved
  // it under http.trustedProxies — so trusting them here is safe, and ctx.ip is the real client.
  provider.proxy = true;

  // Stored secrets are SHA-256 digests (the metadata's client_secret holds the digest), plus the
  // previous one during a rotation's overlap (./client-auth.ts). oidc-provider takes a secret in
  // the form and in the Basic header alike for either secret method: the method the client is
  // registered with must be the one it used, so that is checked here too.
  provider.Client.prototype.compareClientSecret = function compareDigest(this: Parameters<typeof matchesStoredSecret>[0], actual: string) {
    const params = Provider.ctx?.oidc?.params as Record<string, unknown> | undefined;
    const presented = params?.client_secret !== undefined ? 'client_secret_post' : 'client_secret_basic';
    return matchesStoredSecret(this, actual, presented);
  };
  auditRegistrationRefusals(provider, deps.audit, deps.logger);

  // Every code, refresh token and access token carries the session id (sid): revocation events
  // name it so a gateway can deny one session's tokens. (oidc-provider adds it only for clients
  // registered for back-channel logout.)
  provider.Client.prototype.includeSid = () => true;

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    requestState(ctx).revokedGrants.push(grantId);
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: unknown) => {
    if (error instanceof ConsumedTwiceError) requestState(ctx).replay = { model: error.model, grantId: error.grantId, accountId: error.accountId };
  });
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, error: { error?: unknown }) => {
    if (typeof error?.error === 'string') requestState(ctx).authorizationError = error.error;
  });
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    requestState(ctx).serverError = error;
    deps.logger.error({ err: error, path: ctx.path }, 'oauth request failed');
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const session = ctx.oidc.session;
    const clientId = ctx.oidc.client?.clientId;
    // Only a full sign-out (the user confirmed "logout"); "stay signed in" just ends the client's grant.
    if (session?.accountId && ctx.oidc.params?.logout) {
      const sid = clientId ? session.sidFor(clientId) : undefined;
      requestState(ctx).logout = { accountId: session.accountId, sid, clientId };
    }
  });

  provider.use(createProviderMiddleware(deps) as unknown as Parameters<Provider['use']>[0]);
  return provider;
}
