/**
 * The API gateway process: `createGateway({ config })` builds it, `listen()` serves. Stateless
 * and remote: it imports no store, OAuth or identity code and knows the Security Service only
 * over HTTP (discovery, JWKS, /policy, the security-event stream, the token endpoint for its own
 * credential), through the SDK's verifier — so any number of replicas run behind any load
 * balancer, and `gatehouse serve gateway` and the demo run the same code.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { readSecretFile } from '../config/index.ts';
import { redisUrl as redisUrlSchema } from '../config/gateway-schema.ts';
import { compileCidrs } from '../shared/client-address.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { closeWithin } from '../shared/bounded-close.ts';
import { createVerifier, clientCredentials, workloadIdentity, type Verifier, type TokenSource, type WorkloadIdentity } from '../sdk/index.ts';
import { loadRouteTable, watchRoutes, type RouteTable } from './routes/index.ts';
import { compileCorsPolicies } from './cors.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { createUpstreams } from './upstreams.ts';
import { buildRouteStates } from './route-state.ts';
import { createSharedRateLimits } from './shared-rate-limits.ts';
import type { GatewayRedis } from './redis.ts';
import { bearerAuthenticator, type Authenticator, type SessionSupport } from './authenticators.ts';
import { HEALTH_PATHS } from './health.ts';
import { createGatewayServer } from './server.ts';
import { createAccessLog } from './access-log.ts';
import { countingFetch } from './security-service-fetch.ts';
import { createSessionSupport } from './session/support.ts';
import { createApiTokenAuthenticator } from './api-tokens/index.ts';
import type { GatewayState, Stage } from './exchange.ts';

export { PIPELINE } from './pipeline.ts';
export type { SessionSupport, Authenticator, Credential } from './authenticators.ts';
export type { Exchange, GatewayState, Stage, Outcome } from './exchange.ts';
export { ANSWERED } from './exchange.ts';
export { loadRouteTable, RouteLoadError } from './routes/index.ts';

export type GatewayConfig = Config & { source: string };

/** What browser sign-in (src/gateway/session/) gets to build its part of the gateway from. */
export interface SessionContext {
  config: GatewayConfig;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  verifier: Verifier;
  /** Where the gateway reaches the Security Service (discovery, token endpoint). */
  securityService: string;
  /** The gateway's counted fetch for calls to the Security Service. */
  fetch: typeof fetch;
  /** State shared with the other replicas (`gateway.redis`), when configured. */
  redis: GatewayRedis | undefined;
}

export interface GatewayOptions {
  config: GatewayConfig;
  logger?: Logger;
  /** GATEHOUSE_GATEWAY_PORT, GATEHOUSE_GATEWAY_CLIENT_SECRET, GATEHOUSE_GATEWAY_JOIN_TOKEN (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Access-log lines go here; default: `logger`. */
  accessLogger?: Logger;
  /** Builds browser sign-in when `gateway.sso` is set (default: src/gateway/session/). */
  session?: (context: SessionContext) => SessionSupport | Promise<SessionSupport>;
  /** Node's default process metrics in /metrics (default true; tests starting many gateways turn it off). */
  defaultMetrics?: boolean;
}

export interface Gateway {
  /** Listens on gateway.listen (GATEHOUSE_GATEWAY_PORT wins); resolves to the base URL. */
  listen(): Promise<string>;
  /**
   * Stops accepting, lets in-flight requests finish for up to gateway.shutdownTimeout (then cuts
   * their connections, which aborts their upstream calls), closes pools, the event stream and the
   * watchers.
   */
  close(): Promise<void>;
  /** Re-reads the route rules (as SIGHUP does); a bad file is refused and the running rules stay. */
  reload(): { ok: true } | { ok: false; message: string };
  readonly url: string | undefined;
  readonly server: Server;
  readonly verifier: Verifier;
  readonly metrics: GatewayMetrics;
}

/** A secret from its env variable, else from its `*File` option (relative to the config file; 0600). */
function secret(config: GatewayConfig, env: NodeJS.ProcessEnv, variable: string, file: string | undefined): string | undefined {
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (file === undefined) return undefined;
  return readSecretFile(resolve(config.source === 'defaults' ? process.cwd() : dirname(config.source), file));
}

function listenPort(config: GatewayConfig, env: NodeJS.ProcessEnv): number {
  const fromEnv = env.GATEHOUSE_GATEWAY_PORT;
  if (fromEnv === undefined || fromEnv === '') return config.gateway.listen.port;
  const port = Number(fromEnv);
  if (!/^\d{1,5}$/.test(fromEnv) || port > 65535) throw new Error(`GATEHOUSE_GATEWAY_PORT must be a port number 0–65535, received ${JSON.stringify(fromEnv)}`);
  return port;
}

/** GATEHOUSE_GATEWAY_REDIS_URL wins over gateway.redis.url; both pass the schema's one check, and neither is ever echoed (it may hold a password). */
function redisUrlOf(env: NodeJS.ProcessEnv, configured: string | undefined): string | undefined {
  const fromEnv = env.GATEHOUSE_GATEWAY_REDIS_URL;
  if (fromEnv === undefined || fromEnv === '') return configured;
  if (!redisUrlSchema.safeParse(fromEnv).success) throw new Error('GATEHOUSE_GATEWAY_REDIS_URL must be a redis:// or rediss:// URL');
  return fromEnv;
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const settings = config.gateway;
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: config.log.level, pretty: config.log.pretty });
  const port = listenPort(config, env);
  const redisUrl = redisUrlOf(env, settings.redis.url);
  // A bad route table stops the start with every problem; on reload it is refused instead.
  const table: RouteTable = loadRouteTable(config);
  const securityService = settings.securityService ?? config.issuer;
  const audience = settings.audience ?? config.resources[0]?.audience;
  if (audience === undefined) throw new Error('gateway.audience is not set and there are no resources to take it from');
  const metrics = createGatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const fetch = countingFetch(metrics);

  let credentials: TokenSource | undefined;
  let apiTokens: Authenticator | undefined;
  if (settings.credentials !== undefined) {
    const clientSecret = secret(config, env, 'GATEHOUSE_GATEWAY_CLIENT_SECRET', settings.credentials.secretFile);
    if (clientSecret === undefined) throw new Error('gateway.credentials needs a client secret: set GATEHOUSE_GATEWAY_CLIENT_SECRET or gateway.credentials.secretFile');
    credentials = clientCredentials({ issuer: config.issuer, securityService, clientId: settings.credentials.clientId, clientSecret, scope: 'events:read', resource: config.issuer, fetch });
    if (settings.apiTokens.enabled) apiTokens = createApiTokenAuthenticator({ config, securityService, audience, clientId: settings.credentials.clientId, clientSecret, fetch, logger, registry: metrics.registry });
  } else {
    logger.warn({}, 'gateway.credentials is not set: the gateway cannot follow the security-event stream, so revoked tokens pass until they expire and /readyz reports "events"');
  }
  const verifier = createVerifier({
    issuer: config.issuer,
    audience,
    securityService,
    ...(credentials ? { credentials } : {}),
    clockTolerance: settings.clockTolerance,
    maxTokenAge: settings.maxTokenAge,
    maxTokenBytes: settings.maxTokenBytes,
    cacheSize: settings.tokenCacheSize,
    jwksCooldown: settings.jwksCooldown,
    fetch,
    logger,
  });
  metrics.countTokenCache(() => verifier.stats());

  let identity: WorkloadIdentity | undefined;
  const needsIdentity = Object.values(config.services).some((urls) => urls.some((url) => url.startsWith('https:')));
  // On demand: a gateway without Redis never loads its client.
  const redis = redisUrl ? (await import('./redis.ts')).connectRedis({ url: redisUrl, keyPrefix: settings.redis.keyPrefix, timeoutMs: settings.redis.timeoutMs, logger }) : undefined;
  const closeEarly = async () => { await verifier.close(); credentials?.close(); redis?.close(); };
  if (needsIdentity) {
    try {
      if (settings.identity === undefined) throw new Error('services with https:// instances need gateway.identity (the gateway\'s workload certificate for mutual TLS)');
      const joinToken = secret(config, env, 'GATEHOUSE_GATEWAY_JOIN_TOKEN', settings.identity.joinTokenFile);
      if (joinToken === undefined) throw new Error('gateway.identity needs a join token: set GATEHOUSE_GATEWAY_JOIN_TOKEN or gateway.identity.joinTokenFile');
      identity = await workloadIdentity({ caUrl: settings.identity.caUrl, service: settings.identity.service, joinToken, logger, registry: metrics.registry });
    } catch (error) {
      await closeEarly();
      throw error;
    }
  }

  const upstreams = createUpstreams({ services: config.services, settings: settings.upstream, identity, logger, metrics });
  const cors = compileCorsPolicies(settings.cors);
  const hsts = settings.publicUrl !== undefined && new URL(settings.publicUrl).protocol === 'https:';
  const sharedRateLimits = redis === undefined ? undefined : createSharedRateLimits(redis, metrics.registry);
  const routeDeps = { upstreams, cors, metrics, defaultTimeout: settings.upstream.timeout, hsts, sharedRateLimits };

  let session: SessionSupport | undefined;
  if (settings.sso !== undefined) {
    try {
      session = await (options.session ?? createSessionSupport)({ config, logger, env, verifier, securityService, fetch, redis });
    } catch (error) {
      await closeEarly();
      throw error;
    }
  }
  // The API-token authenticator first: `Bearer gth_…` is its, not the bearer authenticator's.
  const authenticators: Authenticator[] = [...(apiTokens ? [apiTokens] : []), bearerAuthenticator(settings.maxTokenBytes)];
  if (session !== undefined) authenticators.push(session.authenticator);
  const owned = new Map<string, Stage>(HEALTH_PATHS);
  for (const [path, stage] of session?.paths ?? []) owned.set(path, stage);

  const state: GatewayState = {
    logger,
    accessLog: settings.accessLog ? createAccessLog(options.accessLogger ?? logger) : undefined,
    verifier,
    upstreams,
    metrics,
    trustedProxies: compileCidrs(settings.trustedProxies),
    metricsAllowFrom: compileCidrs(settings.metricsAllowFrom),
    authenticators,
    session,
    owned,
    bodyLimit: settings.bodyLimit,
    maxTargetLength: settings.maxTargetLength,
    hsts,
    table,
    routes: buildRouteStates(table, routeDeps),
    notReady() {
      const missing: string[] = [];
      const status = verifier.status();
      if (!status.jwks) missing.push('jwks');
      if (!status.policy) missing.push('policy');
      if (!status.events) missing.push('events');
      if (identity !== undefined && (identity.expiresIn() <= 0 || identity.crlStale() !== undefined)) missing.push('workload_identity');
      return missing;
    },
  };

  const apply = (next: RouteTable) => {
    state.routes = buildRouteStates(next, routeDeps, state.routes);
    state.table = next;
    logger.info({ routes: next.routes.length }, 'routes reloaded');
  };
  const refused = (message: string) => logger.error({}, message);
  const watcher = watchRoutes({ config, onReload: apply, onRejected: refused });
  const server = createGatewayServer(state);
  let url: string | undefined;

  return {
    server,
    verifier,
    metrics,
    get url() {
      return url;
    },
    async listen() {
      await new Promise<void>((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, settings.listen.host, () => {
          server.off('error', reject);
          resolveListen();
        });
      });
      const address = server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      return url;
    },
    reload() {
      try {
        apply(loadRouteTable(config, { rereadConfig: true }));
        return { ok: true };
      } catch (error) {
        const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
        const message = `routes reload refused, the previous rules stay: ${problems.join('; ')}`;
        refused(message);
        return { ok: false, message };
      }
    },
    async close() {
      watcher.close();
      await closeWithin(server, settings.shutdownTimeout, () => new Promise<void>((resolveClose) => server.close(() => resolveClose())), logger);
      await upstreams.close();
      await session?.close?.();
      await closeEarly();
      await identity?.close();
    },
  };
}
