/**
 * `npm start`: the bookstore as a person runs it — one process with the Security Service, the
 * services and the gateway; a random password printed on first start, GATEHOUSE_DEMO_PASSWORD
 * overriding it, --data-dir and --config honoured, data kept across a restart, Ctrl-C stopping
 * everything.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { bookstorePorts, removeDataDir, signInThroughGateway, startBookstore, type Bookstore } from './helpers/bookstore.ts';

const ports = await bookstorePorts({ stable: true });
let dataDir: string | undefined;
after(() => { if (dataDir) removeDataDir(dataDir); });

const origin = `http://localhost:${ports.gateway}`;

async function placeOrder(demo: Bookstore, password: string): Promise<string> {
  const { browser } = await signInThroughGateway(demo.origin, 'alice', password);
  const res = await browser.fetch(`${demo.origin}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: demo.origin },
    body: JSON.stringify({ items: [{ bookId: '1', quantity: 1 }] }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  assert.match(res.headers.get('location') ?? '', /^\/api\/orders\/[0-9a-f-]{36}$/);
  return ((await res.json()) as { id: string }).id;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

let firstOrder: string | undefined;
let firstPassword: string | undefined;

test('ok: the first start prints the URL, the users and a random password that signs alice in through the gateway', async () => {
  const demo = await startBookstore({ ports });
  dataDir = demo.dataDir;
  try {
    const banner = demo.output();
    assert.match(banner, new RegExp(`running at ${origin.replace(/[.]/g, '\\.')}`));
    assert.match(banner, /alice \(customer\), dave \(customer\), bob \(staff\), carol \(admin\)/);
    assert.match(banner, /password\s+\S{16,}\s+\(random/);
    assert.match(banner, /curl -s http:\/\/localhost:\d+\/api\/books/);
    firstPassword = demo.password;
    const { browser, landedOn } = await signInThroughGateway(demo.origin, 'alice', demo.password);
    assert.equal(landedOn, '/');
    const me = await browser.fetch(`${demo.origin}/api/me`);
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { username: string }).username, 'alice');
    firstOrder = await placeOrder(demo, demo.password);
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
  }
});

test('ok: every database and secret file is in --data-dir, readable by the owner only', () => {
  assert.ok(dataDir);
  for (const file of ['gatehouse.db', 'catalog.db', 'orders.db', 'master.key', 'demo.json']) {
    assert.ok(existsSync(join(dataDir, file)), `${file} in the data dir`);
    assert.equal(statSync(join(dataDir, file)).mode & 0o077, 0, `${file} is not readable by group or others`);
  }
  assert.doesNotMatch(readFileSync(join(dataDir, 'demo.json'), 'utf8'), /^$/);
});

test('ok: a restart keeps the data, and GATEHOUSE_DEMO_PASSWORD replaces the password', async () => {
  assert.ok(dataDir && firstOrder && firstPassword);
  const chosen = 'Copper-Harbor-Violet-2231';
  const demo = await startBookstore({ ports, dataDir, env: { GATEHOUSE_DEMO_PASSWORD: chosen } });
  try {
    assert.match(demo.output(), new RegExp(`password\\s+${chosen}\\s+\\(GATEHOUSE_DEMO_PASSWORD\\)`));
    const { browser } = await signInThroughGateway(demo.origin, 'alice', chosen);
    const order = await browser.fetch(`${demo.origin}/api/orders/${firstOrder}`);
    assert.equal(order.status, 200, 'the order placed before the restart is still there');
    const stale = await fetch(`${demo.origin}/api/books/1`);
    assert.equal(stale.status, 200);
    assert.equal(((await stale.json()) as { stock: number }).stock, 19, 'the stock the first order took stays taken');
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
  }
});

test('ok: Ctrl-C stops every part: no port of the demo is still listening', async () => {
  assert.ok(dataDir);
  const demo = await startBookstore({ ports, dataDir });
  const code = await new Promise<number | null>((resolve) => {
    demo.child.once('exit', (exitCode) => resolve(exitCode));
    demo.child.kill('SIGINT');
  });
  assert.equal(code, 0, demo.output());
  for (const [name, port] of Object.entries(ports)) assert.equal(await portOpen(port), false, `${name} (${port}) is closed`);
});

test('ok: GATEHOUSE_PORT moves the public URL: the gateway, the issuer and sign-in follow', async () => {
  const moved = await bookstorePorts();
  const publicPort = (await bookstorePorts()).gateway;
  const demo = await startBookstore({ ports: moved, env: { GATEHOUSE_PORT: String(publicPort) } });
  try {
    const url = `http://localhost:${publicPort}`;
    assert.match(demo.output(), new RegExp(`running at ${url.replace(/[.]/g, '\\.')}`));
    const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as { issuer: string };
    assert.equal(discovery.issuer, url);
    const { browser } = await signInThroughGateway(url, 'alice', demo.password);
    assert.equal((await browser.fetch(`${url}/api/me`)).status, 200);
  } finally {
    assert.equal(await demo.stop(), 0, demo.output());
    removeDataDir(demo.dataDir);
  }
});
