/**
 * Composition root of the Security Service: builds every component from the validated config
 * and wires them together. Nothing else constructs components; tests call `createSecurityService`.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.ts';
import { loadMasterKey, loadCookieKeys, ensureDataDir } from './config/index.ts';
import { validateCookieKey } from './config/cookie-key.ts';
import { openStore, isTokenRevoked, type Store } from './store/index.ts';
import { createAuditLog, type AuditLog } from './events/audit.ts';
import { createEventBus, registerEventRoutes, announcePolicyVersion, type StreamingEventBus } from './events/index.ts';
import { createKeyService, createAccessTokenVerifier, createApiTokenService, registerApiTokenRoutes, API_TOKEN_REVOKE_ROUTE, type KeyService, type AccessTokenVerifier, type ApiTokenService } from './tokens/index.ts';
import { createHttpApp } from './shared/http.ts';
import { registerHealthRoutes } from './shared/health.ts';
import { createMetrics, type Metrics } from './shared/metrics.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { createMemoryRefusalCounter, createRefusalLimiter, type RefusalLimiter } from './shared/refusal-limit.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { createIdentity, createFederation, type UserService, type Authenticator, type Federation, type LinkedIdentities } from './identity/index.ts';
import { compilePolicy, registerPolicyRoutes, type CompiledPolicy } from './policy/index.ts';
import { registerAdminRoutes } from './admin/index.ts';
import { createOAuth, createRevoker, OAUTH_ROUTES, OAUTH_STYLESHEET_PATH, SIGN_IN_ROUTE, CONSENT_ROUTE, ABORT_ROUTE, FEDERATION_LINK_ROUTE, type OAuthComponent } from './oauth/index.ts';
import { createPki, createPkiTlsListener, registerPkiRoutes, startCrlRefresher, type Pki } from './pki/index.ts';
import { closeWithin } from './shared/bounded-close.ts';
import { registerAccountRoutes, createScopeChoices, type AccountDeps } from './account/index.ts';

export interface ServiceOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

/** Stage 1 — what every component is built from: opened and loaded before any component exists. */
export interface ServiceFoundation {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  audit: AuditLog;
  metrics: Metrics;
  masterKey: Buffer;
  cookieKeys: string[];
}

/** Everything a component may depend on, built once, in stages (see `createContext`). */
export interface ServiceContext extends ServiceFoundation {
  keys: KeyService;
  verifier: AccessTokenVerifier;
  events: StreamingEventBus;
  users: UserService;
  authenticator: Authenticator;
  policy: CompiledPolicy;
  pki: Pki;
  oauth: OAuthComponent;
  /** Personal API tokens (the CLI, the admin API and the account page use the same service). */
  apiTokens: ApiTokenService;
  /** Per-client-IP refusal limiting of the credential-checking endpoints, shared by both listeners. */
  refusals: RefusalLimiter;
  /** External identity providers (`identityProviders:`). */
  federation: Federation;
  /** Contract 3: the account page's linked identities (list, unlink). */
  linkedIdentities: LinkedIdentities;
}

export interface SecurityService {
  context: ServiceContext;
  app: FastifyInstance;
  /** Listens on the configured port (0 = a free one); resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
  /** https URL of the PKI TLS listener (/pki/enroll, /pki/renew) once listening. */
  readonly tlsUrl: string | undefined;
}

/**
 * Builds the components without any listener (the CLI uses this directly), in stages: each stage
 * takes only what the stages before it built, so no component sees a half-built context.
 */
export async function createContext(options: ServiceOptions): Promise<ServiceContext> {
  const foundation = await openFoundation(options);
  try {
    return await buildComponents(foundation, options.env ?? process.env);
  } catch (error) {
    await foundation.store.close();
    throw error;
  }
}

async function openFoundation(options: ServiceOptions): Promise<ServiceFoundation> {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  const clock = options.clock ?? systemClock;
  ensureDataDir(config.dataDir);
  // A weak cookie key is refused before anything is opened.
  const cookieKeys = loadCookieKeys(config.dataDir, env).map(validateCookieKey);
  const masterKey = loadMasterKey(config.dataDir, env);
  const store = openStore({ url: config.database.url, dataDir: config.dataDir, poolSize: config.database.poolSize });
  try {
    const applied = await store.migrate();
    if (applied.length > 0) logger.info({ applied, store: store.location }, 'database migrated');
  } catch (error) {
    await store.close();
    throw error;
  }
  return { config, logger, clock, store, audit: createAuditLog(store.db, clock), metrics: createMetrics(), masterKey, cookieKeys };
}

/** `env` is read only for secrets components load themselves (identity providers' client secrets); it is not kept. */
async function buildComponents(foundation: ServiceFoundation, env: NodeJS.ProcessEnv): Promise<ServiceContext> {
  const { config, logger, clock, store, audit, metrics, cookieKeys } = foundation;
  // Stage 2 — signing keys; the verifier and the event bus (which signs SETs) build on them.
  const keys = createKeyService(foundation);
  await keys.ensureKeys();
  const verifier = createAccessTokenVerifier({ keys, issuer: config.issuer, clock, checkInterval: config.tokens.keyCheckInterval * 1000, maxTokenAge: Math.max(3600, config.tokens.accessTokenTtl, config.tokens.maxAccessTokenTtl) });
  const events = createEventBus({ store, keys, issuer: config.issuer, clock, logger });
  // Stage 3 — components that need only the stages above.
  const policy = compilePolicy(config.roles);
  const refusals = createRefusalLimiter({
    counter: createMemoryRefusalCounter(),
    clock,
    settings: { limit: config.http.refusalLimit, window: config.http.refusalWindow, block: config.http.refusalBlock },
    // The endpoints that check credentials: a refusal there may be guessing.
    endpoints: {
      oauth: [OAUTH_ROUTES.token, OAUTH_ROUTES.introspection, OAUTH_ROUTES.revocation, OAUTH_ROUTES.registration, OAUTH_ROUTES.device_authorization],
      api: ['/pki/enroll', '/pki/renew', '/admin/api', '/events', API_TOKEN_REVOKE_ROUTE],
      apiPrefixes: ['/admin/api/', '/events/'],
      pages: [SIGN_IN_ROUTE, CONSENT_ROUTE, ABORT_ROUTE, FEDERATION_LINK_ROUTE],
    },
    onBlocked: ({ ip, bucket, until }) => audit.record({ event: 'ip.blocked', actor: `ip:${ip}`, ip, reason: bucket === 'shared' ? 'refusal_table_full' : 'too_many_refusals', data: { until, bucket } }),
  });
  const pki = createPki({ store, audit, config: config.pki, masterKey: foundation.masterKey, clock, logger, events });
  // Stage 4 — grant revocation first: identity revokes through it (a disabled user's tokens), and
  // OAuth, which needs identity's users and authenticator, is handed the same revoker.
  const revoker = createRevoker({ store, audit, events, clock, logger });
  const { users, authenticator } = createIdentity({ store, audit, config, clock, logger, metrics, revokeUser: revoker.revokeUser });
  const apiTokens = createApiTokenService({ store, audit, clock, config, findUser: (id) => users.findById(id), permissionsFor: (roles) => policy.permissionsFor(roles), revokeExchanged: revoker.revokeApiTokenJwts });
  const federation = createFederation({ store, audit, config, clock, logger, users, env });
  const oauth = createOAuth({ config, store, keys, users, authenticator, audit, events, clock, logger, cookieKeys, metrics, refusals, revoker, verifier, apiTokens, federation });
  return { ...foundation, keys, verifier, events, policy, refusals, pki, users, authenticator, oauth, apiTokens, federation, linkedIdentities: federation.linkedIdentities };
}

/** Closes what `createContext` opened. */
export async function closeContext(context: ServiceContext): Promise<void> {
  await context.oauth.close();
  await context.events.close();
  await context.store.close();
}

/** The account page's dependencies: plain objects cut from the components (docs/account-page.md). */
function accountDeps(context: ServiceContext): AccountDeps & { passwordPolicy: { minLength: number } } {
  const { config, store, oauth } = context;
  const audience = config.account.audience ?? config.gateway.audience ?? config.resources[0]!.audience;
  const audienceUrl = URL.parse(audience);
  return {
    issuer: config.issuer,
    audience,
    apiExampleUrl: config.account.exampleUrl ?? (audienceUrl && /^https?:$/.test(audienceUrl.protocol) ? audience : config.issuer),
    verifier: context.verifier,
    isTokenRevoked: (jti) => isTokenRevoked(store.db, jti),
    isFirstParty: async (clientId) => (await oauth.clients.find(clientId).catch(() => undefined))?.firstParty === true,
    users: context.users,
    checkPassword: async (input) => {
      const outcome = await context.authenticator.authenticate(input);
      return outcome.ok ? { ok: true } : { ok: false, reason: outcome.reason, ...(outcome.retryAfter !== undefined ? { retryAfter: outcome.retryAfter } : {}) };
    },
    scopeChoices: createScopeChoices({ resourceScopes: config.resources.flatMap((r) => r.scopes), roles: config.roles }),
    sessions: oauth.sessions,
    // Issue 8's other parts hand theirs in here (HELPERS-BRIEF contract 3); absent: "not configured".
    apiTokens: context.apiTokens,
    apiTokenMaxTtl: config.apiTokens.maxTtl,
    connectedApps: oauth.connectedApps,
    linkedIdentities: context.linkedIdentities,
    audit: context.audit,
    cookieKeys: context.cookieKeys,
    masterKey: context.masterKey,
    clock: context.clock,
    logger: context.logger,
    passwordPolicy: { minLength: config.passwords.minLength },
  };
}

export async function createSecurityService(options: ServiceOptions): Promise<SecurityService> {
  const context = await createContext(options);
  const { config, logger, store, metrics } = context;

  const app = createHttpApp({ logger, bodyLimit: config.http.bodyLimit, trustedProxies: config.http.trustedProxies, metrics, hsts: new URL(config.issuer).protocol === 'https:', refusals: context.refusals, pageStylesheet: OAUTH_STYLESHEET_PATH });

  registerHealthRoutes(app, { metrics, ready: { store: () => store.ping() } });

  // ── components register their routes here (one line each) ──
  context.oauth.register(app);
  registerEventRoutes(app, { bus: context.events, store, verifier: context.verifier, issuer: config.issuer, config, logger, clock: context.clock });
  registerPolicyRoutes(app, { policy: context.policy });
  registerApiTokenRoutes(app, { apiTokens: context.apiTokens });
  await announcePolicyVersion(context.events, store, context.policy.version);
  registerAdminRoutes(app, { users: context.users, clients: context.oauth.clients, connectedApps: context.oauth.connectedApps, policy: context.policy, apiTokens: context.apiTokens, linkedIdentities: context.linkedIdentities, verifier: context.verifier, audience: config.issuer, audit: context.audit, isTokenRevoked: (jti) => isTokenRevoked(store.db, jti) });
  if (config.account.enabled) registerAccountRoutes(app, accountDeps(context));
  await context.pki.ensureInitialized(); // first start creates the root and intermediate CA
  const pkiTls = await createPkiTlsListener(context.pki, { logger, bodyLimit: config.http.bodyLimit, serverNames: config.pki.serverNames, refusals: context.refusals, shutdownTimeout: config.http.shutdownTimeout });
  registerPkiRoutes(app, context.pki, { tls: false, tlsUrl: () => pkiTls.url });

  const closers: Array<() => Promise<void>> = [];
  closers.push(() => pkiTls.close());

  return {
    context,
    app,
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
      context.federation.warm(); // discovery in the background: a provider that is down never stops the start
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      await pkiTls.listen(config.listen.host, config.listen.tlsPort);
      const stopCrlRefresher = startCrlRefresher(context.pki, { crlTtl: config.pki.crlTtl, logger });
      closers.push(async () => stopCrlRefresher());
      return `http://${host}:${address.port}`;
    },
    get tlsUrl() {
      return pkiTls.url;
    },
    async close() {
      await closeWithin(app.server, config.http.shutdownTimeout, () => app.close(), logger);
      for (const close of closers.reverse()) await close();
      await closeContext(context);
    },
  };
}
