/**
 * `npm run example:mtls` — next to a running `npm start` (same data dir):
 *   1. mints one join token per service with the CLI (`gatehouse ca token --service …`),
 *   2. enrolls `orders` and `catalog` (keys generated here; the CA only sees CSRs),
 *   3. orders → catalog over mTLS (allowed), catalog → orders (refused: 403),
 *   4. certificates live 15 s and renew at two thirds of that, with traffic flowing,
 *   5. revokes orders' certificate with the CLI and shows catalog cutting it off live.
 * Env: GATEHOUSE_DATA_DIR (default ./.gatehouse), GATEHOUSE_CA_URL (default https://127.0.0.1:8443),
 * EXAMPLE_KEEP_RUNNING=1 to skip the revocation and keep calling until Ctrl-C, EXAMPLE_CERT_TTL
 * (seconds, default 15, at least 5) for the certificates' lifetime.
 */
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { request } from 'undici';
import { workloadIdentity, mtlsAgent, type WorkloadIdentity, type SdkLogger } from '../../src/sdk/index.ts';
import { catalogServer, ordersServer } from './services.ts';

const root = new URL('../..', import.meta.url).pathname;
const dataDir = process.env.GATEHOUSE_DATA_DIR ?? './.gatehouse';
const caUrl = process.env.GATEHOUSE_CA_URL ?? 'https://127.0.0.1:8443';
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
  return execFileSync(process.execPath, [`${root}src/cli/main.ts`, '--data-dir', dataDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
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
