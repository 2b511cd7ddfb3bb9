/**
 * `npm run example:mtls` — next to a running `npm start` (same data dir):
 *   1. mints one join token per service with the CLI (`gatehouse ca token --service …`),
 *   2. enrolls `orders` and `catalog` (keys generated here; the CA only sees CSRs),
 *   3. orders → catalog over mTLS (allowed), catalog → orders (refused: 403),
 *   4. certificates live 15 s and renew at two thirds of that, with traffic flowing,
 *   5. revokes orders' certificate with the CLI and shows catalog cutting it off live.
 * It reads the same configuration as `npm start` (--config / GATEHOUSE_CONFIG, default
 * examples/bookstore/gatehouse.yaml; --data-dir / GATEHOUSE_DATA_DIR): the data dir and the CA's TLS port (listen.tlsPort) come from
 * there. Env: GATEHOUSE_CA_URL to reach the CA elsewhere, EXAMPLE_KEEP_RUNNING=1 to skip the
 * revocation and keep calling until Ctrl-C, EXAMPLE_CERT_TTL (seconds, default 15, at least 5) for
 * the certificates' lifetime.
 */
import { execFileSync } from 'node:child_process';
import { connect, type AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Server } from 'node:https';
import { request } from 'undici';
import { workloadIdentity, mtlsAgent, type WorkloadIdentity, type SdkLogger } from '../../src/sdk/index.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { failureLine } from '../../src/process.ts';
import { catalogServer, ordersServer } from './services.ts';

/** One line on stderr, never a stack trace. */
function fail(message: string): never {
  console.error(`example:mtls: ${message}`);
  process.exit(1);
}

// Whatever fails later (an enrollment refused, the CA gone mid-run) is one line too.
process.on('uncaughtException', (error) => fail(failureLine(error).line.replace(/^gatehouse: /, '')));

const root = new URL('../..', import.meta.url).pathname;
let flags: { config?: string | undefined; 'data-dir'?: string | undefined };
let config: Config;
let configPath: string;
try {
  ({ values: flags } = parseArgs({ options: { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string', short: 'd' } } }));
  configPath = flags.config ?? (process.env.GATEHOUSE_CONFIG || new URL('../bookstore/gatehouse.yaml', import.meta.url).pathname);
  config = loadConfig({ configPath, dataDir: flags['data-dir'] });
} catch (error) {
  fail(failureLine(error).line.replace(/^gatehouse: /, ''));
}
const dataDir = config.dataDir;
const tlsHost = ['0.0.0.0', '::', ''].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
const caUrl = process.env.GATEHOUSE_CA_URL || `https://${tlsHost.includes(':') ? `[${tlsHost}]` : tlsHost}:${config.listen.tlsPort}`;
const keepRunning = process.env.EXAMPLE_KEEP_RUNNING === '1';
const certTtl = Number(process.env.EXAMPLE_CERT_TTL ?? 15);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function log(who: string, message: string): void {
  console.log(`${new Date().toISOString().slice(11, 19)} ${who.padEnd(8)} ${message}`);
}
function sdkLogger(who: string): SdkLogger {
  const line = (obj: object, msg: string) => log(who, `${msg} ${JSON.stringify(obj)}`);
  return { info: line, warn: line, error: line };
}
function gatehouse(args: string[]): string {
  const global = ['--data-dir', dataDir, '--config', configPath];
  try {
    return execFileSync(process.execPath, [`${root}src/cli/main.ts`, ...global, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    fail(`gatehouse ${args.join(' ')} failed (its message is above)`);
  }
}
/** Undefined when something accepts TCP connections at `url`'s host and port, else why not. */
function unreachable(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 443) });
    socket.setTimeout(3000, () => { socket.destroy(); resolve('timed out'); });
    socket.once('connect', () => { socket.end(); resolve(undefined); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
async function call(from: string, agent: ReturnType<typeof mtlsAgent>, url: string): Promise<number> {
  try {
    const res = await request(url, { dispatcher: agent });
    const body = await res.body.text();
    log(from, `GET ${new URL(url).pathname} → ${res.statusCode} ${body}`);
    return res.statusCode;
  } catch (error) {
    log(from, `GET ${new URL(url).pathname} → failed: ${(error as Error).message}`);
    return 0;
  }
}

const down = await unreachable(caUrl);
if (down) fail(`the Security Service's CA is not reachable at ${caUrl} (${down}): start it first with \`npm start\` (same --config / --data-dir), then run this again`);
log('example', `minting join tokens with the CLI (data dir ${dataDir}); CA at ${caUrl}`);
const identities: WorkloadIdentity[] = [];
async function enroll(service: string): Promise<WorkloadIdentity> {
  const token = gatehouse(['ca', 'token', '--service', service, '--ttl', '5m']);
  const identity = await workloadIdentity({ caUrl, service, joinToken: token, ttl: certTtl, refreshInterval: 2000, logger: sdkLogger(service) });
  identity.on('changed', (event) => { if (event.type === 'renewed') log(service, `renewed: serial ${event.serial}, valid until ${event.notAfter.toISOString()}`); });
  identities.push(identity);
  return identity;
}

const catalog = await enroll('catalog');
const orders = await enroll('orders');
const catalogUrl = await listen(catalogServer(catalog, sdkLogger('catalog')));
const ordersUrl = await listen(ordersServer(orders, sdkLogger('orders')));
const td = orders.trustDomain;
const ordersToCatalog = mtlsAgent(orders, { expect: `spiffe://${td}/svc/catalog` });
const catalogToOrders = mtlsAgent(catalog, { expect: `spiffe://${td}/svc/orders` });

let failures = 0;
const firstSerial = orders.serial;
log('example', 'orders → catalog (allowed), then catalog → orders (refused)');
if ((await call('orders', ordersToCatalog, `${catalogUrl}/books/1`)) !== 200) failures += 1;
if ((await call('catalog', catalogToOrders, `${ordersUrl}/orders`)) !== 403) failures += 1;

log('example', `calling every 500 ms until orders has renewed its certificate (about ${Math.round((certTtl * 2) / 3)} s)`);
while (orders.serial === firstSerial || keepRunning) {
  if ((await call('orders', ordersToCatalog, `${catalogUrl}/books/2`)) !== 200) failures += 1;
  await sleep(500);
}

log('example', `revoking orders' certificate with the CLI: gatehouse ca revoke --service orders`);
log('cli', gatehouse(['ca', 'revoke', '--service', 'orders']));
const revokedAt = Date.now();
let status = 200;
while (status === 200 && Date.now() - revokedAt < 15_000) {
  await sleep(500);
  status = await call('orders', ordersToCatalog, `${catalogUrl}/books/1`);
}
const cutOff = status !== 200;
log('example', cutOff ? `orders was cut off ${((Date.now() - revokedAt) / 1000).toFixed(1)} s after the revocation` : 'orders was NOT cut off');

await ordersToCatalog.close();
await catalogToOrders.close();
for (const identity of identities) await identity.close();
log('example', failures === 0 && cutOff ? 'done: every step behaved as expected' : `done with ${failures} unexpected result(s)`);
process.exit(failures === 0 && cutOff ? 0 : 1);
