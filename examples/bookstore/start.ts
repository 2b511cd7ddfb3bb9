/**
 * `npm start` — the bookstore behind one URL. In one process, each part started as its own
 * deployment would start it and talking to the others only over the network:
 *
 *   1. the Security Service on an internal port (issuer = the gateway's public origin),
 *   2. demo users and clients (idempotent; secrets kept in <dataDir>/demo.json, 0600),
 *   3. the catalog, orders and storefront services: each enrolls with a join token, verifies
 *      tokens with the SDK and listens with mutual TLS,
 *   4. the gateway on http://localhost:8080, the one URL a person needs,
 *   5. Book Club on http://127.0.0.1:9104, a third-party app (its own origin) that reads a
 *      member's orders through the gateway once she allows it (--book-club-port, GATEHOUSE_BOOK_CLUB_PORT),
 *   6. "Partner SSO", a second Gatehouse acting as an external identity provider (./partner-idp.ts).
 *
 * Config: examples/bookstore/gatehouse.yaml (or --config). Data: ./.gatehouse (or --data-dir).
 * Ctrl-C stops everything; a restart keeps the data.
 */
import 'reflect-metadata';
import { Command } from 'commander';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createSecurityService } from '../../src/service.ts';
import { createGateway } from '../../src/gateway/index.ts';
import { stopOnSignal, exitWithFailure } from '../../src/process.ts';
import { seedDemo, applyDemoPasswordOverride, DEMO_CLIENTS, DEMO_USERS } from './seed.ts';
import { startBookstoreServices } from './services/index.ts';
import { startBookClub } from './book-club/app.ts';
import { startPartnerIdp, PARTNER_ID, PARTNER_USER } from './partner-idp.ts';
import { secretVariable } from '../../src/identity/index.ts';

const DEFAULT_CONFIG = new URL('./gatehouse.yaml', import.meta.url).pathname;

const program = new Command('npm start')
  .description('Gatehouse demo: a bookstore of real services behind the gateway at http://localhost:8080')
  .option('-c, --config <path>', 'gatehouse.yaml to read (env GATEHOUSE_CONFIG; default examples/bookstore/gatehouse.yaml)')
  .option('-d, --data-dir <path>', 'data directory (env GATEHOUSE_DATA_DIR; default ./.gatehouse)')
  .option('-p, --port <port>', 'the public port: the gateway\'s, the issuer\'s and the API\'s (env GATEHOUSE_PORT; default 8080)')
  .option('--book-club-port <port>', 'Book Club\'s port, the demo\'s third-party app (env GATEHOUSE_BOOK_CLUB_PORT; default 9104)')
  .action(async (options: { config?: string; dataDir?: string; port?: string; bookClubPort?: string }) => {
    const env = process.env;
    const config = loadDemoConfig(options, env);
    const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
    const gatewaySettings = config.gateway;
    const publicUrl = gatewaySettings.publicUrl ?? `http://localhost:${gatewaySettings.listen.port}`;
    const securityServiceUrl = gatewaySettings.securityService ?? config.issuer;
    const audience = gatewaySettings.audience ?? config.resources[0]!.audience;
    const bookClubPort = portNumber(options.bookClubPort ?? (env.GATEHOUSE_BOOK_CLUB_PORT || '9104'), options.bookClubPort !== undefined ? '--book-club-port' : 'GATEHOUSE_BOOK_CLUB_PORT');
    const bookClubUrl = `http://127.0.0.1:${bookClubPort}`;

    // The external identity provider first: the Security Service reads its client secret at start.
    const partner = await startPartnerIdp({ dataDir: config.dataDir, publicUrl, logger: logger.child({ component: 'partner-idp' }) });
    const withPartner = { ...config, identityProviders: [...config.identityProviders.filter((p) => p.id !== PARTNER_ID), partner.provider] };
    const security = await createSecurityService({ config: withPartner, logger, env: { ...env, [secretVariable(PARTNER_ID)]: partner.secret } }).catch(async (error: unknown) => { await partner.close(); throw error; });
    const closers: Array<() => Promise<void>> = [() => partner.close(), () => security.close()];
    const stopAll = async () => { for (const close of closers.reverse()) await close().catch(() => {}); };
    try {
      const seed = await seedDemo(security.context, env, publicUrl, bookClubUrl);
      await applyDemoPasswordOverride(security.context, seed, env);
      await security.listen();
      const caUrl = security.tlsUrl!;
      const joinToken = async (service: string) => (await security.context.pki.mintJoinToken({ service, ttlSeconds: 300, createdBy: 'demo' })).token;
      const credential = (clientId: string) => ({ clientId, clientSecret: seed.secrets[clientId]! });

      const services = await startBookstoreServices({
        issuer: config.issuer, securityService: securityServiceUrl, audience, caUrl, dataDir: config.dataDir,
        joinTokens: { catalog: await joinToken('catalog'), orders: await joinToken('orders'), storefront: await joinToken('storefront') },
        credentials: { catalog: credential(DEMO_CLIENTS.catalog), orders: credential(DEMO_CLIENTS.orders), storefront: credential(DEMO_CLIENTS.storefront) },
        ports: { catalog: port(config.services.catalog), orders: port(config.services.orders), storefront: port(config.services.storefront) },
        logger: (service) => logger.child({ service }),
      });
      closers.push(() => services.close());

      // The gateway is configured like any replica: its secrets come in as environment values.
      const gateway = await createGateway({
        config,
        logger: logger.child({ component: 'gateway' }),
        env: {
          ...env,
          GATEHOUSE_GATEWAY_CLIENT_SECRET: seed.secrets[DEMO_CLIENTS.gateway],
          GATEHOUSE_GATEWAY_SSO_SECRET: seed.secrets[DEMO_CLIENTS.web],
          GATEHOUSE_GATEWAY_COOKIE_KEY: seed.cookieKey,
          GATEHOUSE_GATEWAY_JOIN_TOKEN: await joinToken(gatewaySettings.identity?.service ?? 'gateway'),
        },
      });
      closers.push(() => gateway.close());
      const url = await gateway.listen();

      // Someone else's app: it knows the bookstore only by its public URL and its own client secret.
      const bookClub = await startBookClub({ issuer: config.issuer, gatewayUrl: publicUrl, audience, clientId: DEMO_CLIENTS.bookClub, clientSecret: seed.secrets[DEMO_CLIENTS.bookClub]!, port: bookClubPort,
        onError: (error, path) => logger.warn({ err: error, service: 'book-club', path }, 'book club request failed') });
      closers.push(() => bookClub.close());

      // Before the banner: whoever reads it may press Ctrl-C at once, and a SIGINT that comes before
      // the handler kills the process outright (no graceful stop, no exit code).
      stopOnSignal(stopAll);
      const users = DEMO_USERS.map((u) => `${u.username} (${u.roles.join(', ')})`).join(', ');
      process.stdout.write([
        '',
        `  Gatehouse bookstore is running at ${publicUrl}`,
        '',
        `  sign in        ${publicUrl}/login`,
        `  account        ${publicUrl}/account   (profile, password, sessions, API tokens)`,
        `  users          ${users}`,
        `  password       ${seed.password}${env.GATEHOUSE_DEMO_PASSWORD ? '   (GATEHOUSE_DEMO_PASSWORD)' : '   (random; set GATEHOUSE_DEMO_PASSWORD to choose it)'}`,
        `  partner SSO    "Sign in with Partner SSO": ${PARTNER_USER} / ${partner.password} at ${partner.issuer}`,
        '',
        '  try            curl -s ' + publicUrl + '/api/books',
        '                 curl -si -X POST ' + publicUrl + '/api/orders   (401: orders need a signed-in customer)',
        '                 npm run bookstore-cli -- login   (sign in from a terminal with a code: device flow)',
        '',
        `  book club      ${bookClub.url}   (a third-party app: connect it to alice's orders)`,
        '',
        `  gateway        ${url} → ${services.services.map((s) => `${s.name} ${s.url}`).join(', ')}`,
        `  security       ${securityServiceUrl} (issuer ${config.issuer}), CA ${caUrl}`,
        `  routes         npm run gatehouse -- --config ${options.config ?? 'examples/bookstore/gatehouse.yaml'} routes explain GET /api/orders/42`,
        `  data           ${config.dataDir} (demo secrets in demo.json, mode 0600)`,
        '  stop           Ctrl-C',
        '',
      ].join('\n') + '\n');
    } catch (error) {
      await stopAll();
      throw error;
    }
  });

/**
 * The demo's configuration. In the demo the public port is the gateway's: `--port` /
 * GATEHOUSE_PORT move the gateway and, with it, the issuer and the API audience (which name the
 * gateway's origin) — not the Security Service's internal listener, as they would for `serve auth`.
 */
function loadDemoConfig(options: { config?: string; dataDir?: string; port?: string }, env: NodeJS.ProcessEnv): Config & { source: string } {
  const { GATEHOUSE_PORT: fromEnv, ...rest } = env;
  const configPath = options.config ?? (env.GATEHOUSE_CONFIG || DEFAULT_CONFIG);
  const config = loadConfig({ configPath, dataDir: options.dataDir, env: rest });
  const wanted = options.port ?? (fromEnv || undefined);
  if (wanted === undefined) return config;
  portNumber(wanted, options.port !== undefined ? '--port' : 'GATEHOUSE_PORT');
  const before = new URL(config.gateway.publicUrl ?? config.issuer).origin;
  const after = `http://localhost:${wanted}`;
  const moved = (url: string | undefined) => (url !== undefined && url.startsWith(before) ? after + url.slice(before.length) : url);
  return loadConfig({
    configPath, dataDir: options.dataDir, env: rest,
    overrides: {
      issuer: moved(config.issuer),
      resources: config.resources.map((resource) => ({ ...resource, audience: moved(resource.audience) })),
      gateway: { listen: { port: Number(wanted) }, publicUrl: after, ...(config.gateway.audience ? { audience: moved(config.gateway.audience) } : {}) },
    },
  });
}

function portNumber(wanted: string, where: string): number {
  if (!/^\d{1,5}$/.test(wanted) || Number(wanted) < 1 || Number(wanted) > 65535) throw new Error(`${where}: expected a port number 1–65535, received ${JSON.stringify(wanted)}`);
  return Number(wanted);
}

/** The port of a service's first instance in `services:`. */
function port(urls: string[] | undefined): number {
  const first = urls?.[0];
  if (first === undefined) throw new Error('examples/bookstore/gatehouse.yaml must name the catalog, orders and storefront services');
  return Number(new URL(first).port);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  exitWithFailure(error);
}
