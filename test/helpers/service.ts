/**
 * Starts a real Security Service on a free loopback port with a fresh data dir (SQLite) or a
 * fresh PostgreSQL database. The issuer is the real origin, so real clients work unchanged.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { configSchema, type Config } from '../../src/config/index.ts';
import { createSecurityService, type SecurityService } from '../../src/service.ts';
import { silentLogger, createLogger, type Logger } from '../../src/shared/logger.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createTestDatabase } from './postgres.ts';

export type TestDialect = 'sqlite' | 'postgres';

export interface TestService {
  url: string;
  service: SecurityService;
  config: Config;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Where test ports come from: below the kernel's ephemeral range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range), from which every outgoing connection of every process
 * takes its local port and `listen(0)` its port. A port picked by listening on 0 and closing
 * again could be taken by the other test file's next connection before the fixture listens on it
 * (seen: EADDRINUSE in a full run); one picked below the range is taken only by another listen.
 */
function testPortRange(): { low: number; high: number } | undefined {
  try {
    const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return ephemeralLow > 20_000 ? { low: 10_000, high: ephemeralLow } : undefined;
  } catch {
    return undefined;
  }
}
const TEST_PORTS = testPortRange();

/** Ports this process has handed out: two fixtures of one file never get the same one. */
const handedOut = new Set<number>();

/** Whether 127.0.0.1:`port` can be listened on now; `port` 0 asks the kernel for one. Resolves the port, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(undefined) : reject(error)));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

/** A loopback port nobody listens on now and this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const candidate = TEST_PORTS ? TEST_PORTS.low + Math.floor(Math.random() * (TEST_PORTS.high - TEST_PORTS.low)) : 0;
    if (handedOut.has(candidate)) continue;
    const port = await tryPort(candidate);
    if (port === undefined || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Listens on 127.0.0.1:`port`; a port taken meanwhile (another process) rejects instead of leaving the caller waiting. */
export function listenOn(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The production logger (redaction included) at `trace`, writing into memory: for tests that search the log for secrets. */
export function capturedLog(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'trace', destination: { write: (line: string) => { lines.push(line); } } }) };
}

export interface StartOptions {
  dialect?: TestDialect;
  /** Config keys that win over the defaults (a function gets the issuer, for keys that name it). */
  config?: Record<string, unknown> | ((issuer: string) => Record<string, unknown>);
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Runs on the fresh store before the service starts (e.g. import a CA: first start creates one otherwise). */
  prepare?: (config: Config) => Promise<void>;
  /** Runs after the service is built and before it listens (add routes, seed data). */
  beforeListen?: (service: SecurityService) => Promise<void>;
  /** Rewrites the PostgreSQL URL the service uses (e.g. through a test TCP proxy). */
  routeDatabase?: (url: string) => string;
  /** The service's logger (default: silent, or GATEHOUSE_TEST_LOG's level). */
  logger?: Logger;
}

export async function startService(options: StartOptions = {}): Promise<TestService> {
  const port = await freePort();
  const tlsPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const database = options.dialect === 'postgres' ? await createTestDatabase() : undefined;
  const issuer = `http://127.0.0.1:${port}`;
  const config = configSchema.parse({
    issuer,
    dataDir,
    listen: { host: '127.0.0.1', port, tlsPort },
    database: database ? { url: options.routeDatabase ? options.routeDatabase(database.url) : database.url, poolSize: 5 } : {},
    resources: [{ audience: `${issuer}/api`, scopes: ['books:read', 'orders:write'] }],
    // Tests use cheap throttling so lockout is reachable quickly.
    ...(typeof options.config === 'function' ? options.config(issuer) : options.config),
  });
  const logger = options.logger ?? (process.env.GATEHOUSE_TEST_LOG ? createLogger({ level: process.env.GATEHOUSE_TEST_LOG, pretty: true }) : silentLogger());
  await options.prepare?.(config);
  const service = await createSecurityService({ config, logger, ...(options.clock ? { clock: options.clock } : {}), env: { ...options.env } });
  const close = async () => {
    await service.close();
    rmSync(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  try {
    await options.beforeListen?.(service);
    return { url: await service.listen(), service, config, dataDir, close };
  } catch (error) {
    // What was started is closed again: an open store or listener would keep the test file's
    // process alive after the failure, and the suite would wait for it.
    await close().catch(() => undefined);
    throw error;
  }
}
