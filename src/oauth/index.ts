/**
 * OAuth 2.0 / OpenID Connect: oidc-provider mounted in the Security Service, its Kysely adapter,
 * login and consent pages, client registration and grant revocation. Other components import
 * only this file.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAdapterFactory, sweepExpired } from './adapter.ts';
import { createClientService } from './clients.ts';
import { createConnectedApps } from './connected-apps.ts';
import { loadInitialAccessToken } from './dynamic-registration.ts';
import type { Revoker } from './revocation.ts';
import { createInterruptedRotations } from './interrupted-rotations.ts';
import { createSessions, type Sessions } from './sessions.ts';
import { createJwtAccessTokens } from './jwt-access-tokens.ts';
import { buildProvider } from './provider.ts';
import { mountProvider, originPinner } from './mount.ts';
import { registerInteractions } from './interactions/routes.ts';
import { createDeviceFlow } from './device/index.ts';
import { STYLESHEET_PATH } from './views/layout.ts';
import { scopeDescriptions } from './resources.ts';
import type { OAuth, OAuthDeps } from './types.ts';

export type { Client, ClientService, CreateClientInput, UpdateClientInput, ClientAuthMethod, GrantRevocation, RevokeUserOptions, OAuth, OAuthDeps, KeySource } from './types.ts';
export { CLIENT_GRANT_TYPES, CLIENT_AUTH_METHODS } from './types.ts';
export type { ConnectedApp, ConnectedApps } from './connected-apps.ts';
export { DEVICE_CODE_GRANT, CODE_VERIFICATION_ROUTE, DEVICE_AUTHORIZATION_ROUTE } from './device/index.ts';
export { createRevoker, type Revoker, type RevocationDeps } from './revocation.ts';
export type { Sessions, SessionSummary } from './sessions.ts';
export { ROUTES as OAUTH_ROUTES, SIGN_IN_ROUTE, CONSENT_ROUTE, ABORT_ROUTE } from './provider-config.ts';
export { FEDERATION_LINK_ROUTE } from './interactions/federation.ts';
export { STYLESHEET_PATH as OAUTH_STYLESHEET_PATH } from './views/layout.ts';
export { resourceServers, knownScopes, scopeDescriptions } from './resources.ts';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface OAuthComponent extends OAuth {
  /** Looks for keys rotated elsewhere and rebuilds the provider if they changed; true if it did. */
  checkKeys(): Promise<boolean>;
  /** The users' sign-in sessions: listed and ended on the account page. */
  sessions: Sessions;
}

/**
 * `revoker` is built before this component (`createRevoker`) because identity needs it too: a
 * disabled user's grants are revoked inside the disabling transaction.
 */
export function createOAuth(deps: OAuthDeps & { keys: OAuthDeps['keys'] & { ensureKeys?(): Promise<void> }; revoker: Revoker }): OAuthComponent {
  const { config, store, keys, logger, clock, revoker } = deps;
  const interrupted = createInterruptedRotations({ store, logger });
  const clients = createClientService({ ...deps, revoker });
  const connectedApps = createConnectedApps({ store, revoker, audit: deps.audit, clock });
  const adapter = createAdapterFactory({ store, clock, interrupted, clients });
  const initialAccessToken = loadInitialAccessToken(config);
  const jwtTokens = createJwtAccessTokens({ verifier: deps.verifier, store, revoker, clock });
  const device = createDeviceFlow({ config, clock, audit: deps.audit, logger });
  const timers: NodeJS.Timeout[] = [];

  let provider: Provider | undefined;
  let callback: ((req: IncomingMessage, res: ServerResponse) => unknown) | undefined;
  let keyVersion: string | undefined;
  let checking: Promise<boolean> | undefined;

  async function rebuild(): Promise<void> {
    const version = await keys.version();
    const jwks = await keys.providerJwks();
    const next = buildProvider({ ...deps, adapter, revoker, jwtTokens, jwks, interrupted, initialAccessToken, rememberedGrant: connectedApps.rememberedGrant, device });
    // Swap both at once: requests already inside the old instance finish there.
    provider = next;
    callback = next.callback() as (req: IncomingMessage, res: ServerResponse) => unknown;
    keyVersion = version;
  }

  function checkKeys(): Promise<boolean> {
    checking ??= (async () => {
      try {
        if ((await keys.version()) === keyVersion) return false;
        await rebuild();
        logger.info({ keyVersion }, 'signing keys changed: oauth provider rebuilt');
        return true;
      } catch (error) {
        logger.warn({ err: error }, 'could not check signing keys; will retry');
        return false;
      } finally {
        checking = undefined;
      }
    })();
    return checking;
  }

  return {
    clients,
    connectedApps,
    revocation: revoker,
    checkKeys,
    sessions: createSessions({ store, revoker, clock }),
    register(app: FastifyInstance) {
      const stylesheet = readFileSync(new URL('./views/gatehouse.css', import.meta.url), 'utf8');
      // fastify awaits this before it listens: the provider exists before the first request.
      app.register(async () => {
        await keys.ensureKeys?.();
        await rebuild();
      });
      device.registerGuard(app);
      mountProvider(app, { issuer: config.issuer, callback: () => callback!, jwks: () => keys.publicJwks() });
      registerInteractions(app, {
        provider: () => provider!,
        authenticator: deps.authenticator,
        users: deps.users,
        audit: deps.audit,
        logger,
        cookieKeys: deps.cookieKeys,
        scopeDescriptions: scopeDescriptions(config),
        pinOrigin: originPinner(config.issuer),
        ...(deps.federation ? { federation: { federation: deps.federation, authenticator: deps.authenticator, issuer: config.issuer, cookieKeys: deps.cookieKeys, clock } } : {}),
      });
      app.get(STYLESHEET_PATH, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(stylesheet));

      timers.push(setInterval(() => void checkKeys(), config.tokens.keyCheckInterval * 1000).unref());
      timers.push(setInterval(() => {
        sweepExpired(store, clock).catch((error: unknown) => logger.warn({ err: error }, 'could not sweep expired oauth rows'));
      }, SWEEP_INTERVAL_MS).unref());
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      interrupted.close();
      await checking;
    },
  };
}
export { layout, escapeHtml, PAGE_HEADERS } from './views/layout.ts';
