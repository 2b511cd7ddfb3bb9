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
import { createKeyService, createAccessTokenVerifier, type KeyService, type AccessTokenVerifier } from './tokens/index.ts';
import { createHttpApp } from './shared/http.ts';
import { registerHealthRoutes } from './shared/health.ts';
import { createMetrics, type Metrics } from './shared/metrics.ts';
import { createLogger, type Logger } from './shared/logger.ts';
import { createMemoryRefusalCounter, createRefusalLimiter, type RefusalLimiter } from './shared/refusal-limit.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { createIdentity, type UserService, type Authenticator, type IdentityDeps } from './identity/index.ts';
import { compilePolicy, registerPolicyRoutes, type CompiledPolicy } from './policy/index.ts';
import { registerAdminRoutes } from './admin/index.ts';
import { createOAuth, OAUTH_ROUTES, type OAuthComponent } from './oauth/index.ts';
import { createPki, createPkiTlsListener, registerPkiRoutes, startCrlRefresher, type Pki } from './pki/index.ts';

export interface ServiceOptions {
  config: Config;
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

/** Everything a component may depend on, built once. */
export interface ServiceContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  store: Store;
  audit: AuditLog;
  metrics: Metrics;
  masterKey: Buffer;
  cookieKeys: string[];
  keys: KeyService;
  verifier: AccessTokenVerifier;
  events: StreamingEventBus;
  users: UserService;
  authenticator: Authenticator;
  policy: CompiledPolicy;
  pki: Pki;
  oauth: OAuthComponent;
  /** Per-client-IP refusal limiting of the credential-checking endpoints, shared by both listeners. */
  refusals: RefusalLimiter;
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

/** Builds the components without any listener (the CLI uses this directly). */
export async function createContext(options: ServiceOptions): Promise<ServiceContext> {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  const clock = options.clock ?? systemClock;
  ensureDataDir(config.dataDir);
  // A weak cookie key is refused before anything is opened.
  const cookieKeys = loadCookieKeys(config.dataDir, env).map(validateCookieKey);
  const store = openStore({ url: config.database.url, dataDir: config.dataDir, poolSize: config.database.poolSize });
  const applied = await store.migrate();
  if (applied.length > 0) logger.info({ applied, store: store.location }, 'database migrated');
  const metrics = createMetrics();
  // Components assign their fields below, in dependency order.
  const context = {
    config,
    logger,
    clock,
    store,
    audit: createAuditLog(store.db, clock),
    metrics,
    masterKey: loadMasterKey(config.dataDir, env),
    cookieKeys,
  } as ServiceContext;
  // ── components are built here, in dependency order ──
  context.keys = createKeyService(context);
  await context.keys.ensureKeys();
  context.verifier = createAccessTokenVerifier({ keys: context.keys, issuer: config.issuer, clock, checkInterval: config.tokens.keyCheckInterval * 1000, maxTokenAge: Math.max(3600, config.tokens.accessTokenTtl, config.tokens.maxAccessTokenTtl) });
  context.events = createEventBus({ store, keys: context.keys, issuer: config.issuer, clock, logger });
  context.policy = compilePolicy(config.roles);
  context.refusals = createRefusalLimiter({
    counter: createMemoryRefusalCounter(),
    clock,
    settings: { limit: config.http.refusalLimit, window: config.http.refusalWindow, block: config.http.refusalBlock },
    // The endpoints that check credentials: a refusal there may be guessing.
    endpoints: {
      oauth: [OAUTH_ROUTES.token, OAUTH_ROUTES.introspection, OAUTH_ROUTES.revocation],
      api: ['/pki/enroll', '/pki/renew', '/admin/api', '/events'],
      apiPrefixes: ['/admin/api/', '/events/'],
    },
    onBlocked: (ip, until) => context.audit.record({ event: 'ip.blocked', actor: `ip:${ip}`, ip, reason: 'too_many_refusals', data: { until } }),
  });
  context.pki = createPki({ store, audit: context.audit, config: config.pki, masterKey: context.masterKey, clock, logger, events: context.events });
  // Identity revokes through OAuth, which is built after it: late-bound, set once OAuth exists.
  let revokeUser: IdentityDeps['revokeUser'] = async (userId, reason) => { logger.warn({ userId, reason }, 'token revocation is not wired: nothing revoked'); };
  const identity = createIdentity({ store, audit: context.audit, config, clock, logger, revokeUser: (userId, reason, options) => revokeUser(userId, reason, options) });
  context.users = identity.users;
  context.authenticator = identity.authenticator;
  context.oauth = createOAuth({ config, store, keys: context.keys, users: context.users, authenticator: context.authenticator, audit: context.audit, events: context.events, clock, logger, cookieKeys: context.cookieKeys, metrics, refusals: context.refusals });
  revokeUser = (userId, reason, options) => context.oauth.revocation.revokeUser(userId, reason, options);
  return context;
}

/** Closes what `createContext` opened. */
export async function closeContext(context: ServiceContext): Promise<void> {
  await context.oauth?.close();
  await context.events?.close();
  await context.store.close();
}

export async function createSecurityService(options: ServiceOptions): Promise<SecurityService> {
  const context = await createContext(options);
  const { config, logger, store, metrics } = context;

  const app = createHttpApp({ logger, bodyLimit: config.http.bodyLimit, trustProxy: config.http.trustProxy, metrics, hsts: new URL(config.issuer).protocol === 'https:', refusals: context.refusals });

  registerHealthRoutes(app, { metrics, ready: { store: () => store.ping() } });

  // ── components register their routes here (one line each) ──
  context.oauth.register(app);
  registerEventRoutes(app, { bus: context.events, store, verifier: context.verifier, issuer: config.issuer, config, logger, clock: context.clock });
  registerPolicyRoutes(app, { policy: context.policy });
  await announcePolicyVersion(context.events, store, context.policy.version);
  registerAdminRoutes(app, { users: context.users, clients: context.oauth.clients, policy: context.policy, verifier: context.verifier, audience: config.issuer, audit: context.audit, isTokenRevoked: (jti) => isTokenRevoked(store.db, jti) });
  await context.pki.ensureInitialized(); // first start creates the root and intermediate CA
  const pkiTls = await createPkiTlsListener(context.pki, { logger, bodyLimit: config.http.bodyLimit, serverNames: config.pki.serverNames, refusals: context.refusals });
  registerPkiRoutes(app, context.pki, { tls: false, tlsUrl: () => pkiTls.url });

  const closers: Array<() => Promise<void>> = [];
  closers.push(() => pkiTls.close());

  return {
    context,
    app,
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
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
      await app.close();
      for (const close of closers.reverse()) await close();
      await closeContext(context);
    },
  };
}
