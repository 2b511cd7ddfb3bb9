/**
 * The full allow/deny matrix of the bookstore's routes, through the real demo process (`npm
 * start` on free ports): anonymous, alice and dave (customers), bob (staff), carol (admin) —
 * signed in through the gateway like browsers — and a service token (the orders service's own
 * client_credentials token, role svc-orders). Each cell names who answers: the gateway's route
 * rule or the service's own decision with the SDK.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDataDir, signInThroughGateway, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import type { Browser } from './oauth/helpers.ts';

type Caller = 'anonymous' | 'alice' | 'dave' | 'bob' | 'carol' | 'service';
const CALLERS: Caller[] = ['anonymous', 'alice', 'dave', 'bob', 'carol', 'service'];

let demo: Bookstore;
const browsers = new Map<Caller, Browser>();
let serviceToken = '';
const subjects = new Map<Caller, string>();
/** Orders placed by alice and dave before the matrix runs. */
const orders: Record<string, string> = {};

async function call(caller: Caller, method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Cookie-authenticated writes must come from the gateway's own origin (a browser sends Origin).
  if (method !== 'GET') headers.origin = demo.origin;
  const init: RequestInit = { method, headers, redirect: 'manual', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  if (caller === 'service') headers.authorization = `Bearer ${serviceToken}`;
  const browser = browsers.get(caller);
  return browser ? browser.fetch(`${demo.origin}${path}`, init) : fetch(`${demo.origin}${path}`, init);
}

before(async () => {
  demo = await startBookstore();
  for (const user of ['alice', 'dave', 'bob', 'carol'] as const) {
    const { browser } = await signInThroughGateway(demo.origin, user, demo.password);
    browsers.set(user, browser);
    const me = await browser.fetch(`${demo.origin}/api/me`);
    subjects.set(user, ((await me.json()) as { subject: string }).subject);
  }
  // The orders service's own credential, as it gets it: client_credentials for the API audience.
  const secrets = (JSON.parse(readFileSync(join(demo.dataDir, 'demo.json'), 'utf8')) as { secrets: Record<string, string> }).secrets;
  const token = await fetch(`${demo.origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`orders-service:${secrets['orders-service']}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${demo.origin}/api` }).toString(),
  });
  assert.equal(token.status, 200, await token.clone().text());
  serviceToken = ((await token.json()) as { access_token: string }).access_token;
  for (const user of ['alice', 'dave'] as const) {
    const res = await call(user, 'POST', '/api/orders', { items: [{ bookId: '2', quantity: 1 }] });
    assert.equal(res.status, 201);
    orders[user] = ((await res.json()) as { id: string }).id;
  }
});

after(async () => {
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
});

/** One row: the request and the status each caller gets. `by` says who decides. */
interface Row {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  accept?: string;
  expect: Record<Caller, number>;
}

const same = (status: number): Record<Caller, number> => Object.fromEntries(CALLERS.map((c) => [c, status])) as Record<Caller, number>;
const book = { title: 'Matrix Test', author: 'A. Tester', price: 10, stock: 3 };

const rows: Row[] = [
  { name: 'GET /api/books (public)', method: 'GET', path: () => '/api/books', expect: same(200) },
  { name: 'GET /api/books/:id (public)', method: 'GET', path: () => '/api/books/1', expect: same(200) },
  { name: 'GET / (public page)', method: 'GET', path: () => '/', accept: 'text/html', expect: same(200) },
  { name: 'POST /api/books (gateway: catalog:write)', method: 'POST', path: () => '/api/books', body: () => book, expect: { anonymous: 401, alice: 403, dave: 403, bob: 201, carol: 201, service: 403 } },
  { name: 'PUT /api/books/:id (gateway: catalog:write)', method: 'PUT', path: () => '/api/books/5', body: () => ({ ...book, title: 'The Dispossessed' }), expect: { anonymous: 401, alice: 403, dave: 403, bob: 200, carol: 200, service: 403 } },
  { name: 'POST /api/orders (gateway: orders:create)', method: 'POST', path: () => '/api/orders', body: () => ({ items: [{ bookId: '3', quantity: 1 }] }), expect: { anonymous: 401, alice: 201, dave: 201, bob: 403, carol: 201, service: 403 } },
  { name: 'GET /api/orders (orders service: own or all)', method: 'GET', path: () => '/api/orders', expect: { anonymous: 401, alice: 200, dave: 200, bob: 200, carol: 200, service: 403 } },
  { name: "GET /api/orders/:id of alice's order (orders service decides)", method: 'GET', path: () => `/api/orders/${orders.alice}`, expect: { anonymous: 401, alice: 200, dave: 403, bob: 200, carol: 200, service: 403 } },
  { name: "GET /api/users/:userId/orders of alice (gateway: owner or orders:read)", method: 'GET', path: () => `/api/users/${subjects.get('alice')}/orders`, expect: { anonymous: 401, alice: 200, dave: 403, bob: 200, carol: 200, service: 403 } },
  { name: 'GET /api/me (signed in)', method: 'GET', path: () => '/api/me', expect: { anonymous: 401, alice: 200, dave: 200, bob: 200, carol: 200, service: 200 } },
  { name: 'GET /staff as a browser (gateway: staff or admin role)', method: 'GET', path: () => '/staff', accept: 'text/html', expect: { anonymous: 303, alice: 403, dave: 403, bob: 200, carol: 200, service: 403 } },
  { name: 'GET /account as a browser (gateway: signed in; Security Service: a person\'s session token only)', method: 'GET', path: () => '/account', accept: 'text/html', expect: { anonymous: 303, alice: 200, dave: 200, bob: 200, carol: 200, service: 401 } },
  { name: 'POST /internal/reservations (no route: only orders may call it, over mTLS)', method: 'POST', path: () => '/internal/reservations', body: () => ({ items: [{ bookId: '1', quantity: 1 }] }), expect: same(404) },
  { name: 'DELETE /api/orders (no such method)', method: 'DELETE', path: () => '/api/orders', expect: same(405) },
];

describe('bookstore allow/deny matrix', () => {
  for (const row of rows) {
    test(`ok: ${row.name}`, async () => {
      const got: Record<string, number> = {};
      for (const caller of CALLERS) {
        const res = await call(caller, row.method, row.path(), row.body?.(), row.accept);
        got[caller] = res.status;
        await res.arrayBuffer();
      }
      assert.deepEqual(got, row.expect);
    });
  }

  test("fail-not-owner: dave reading alice's order is refused by the orders service itself, not by the gateway", async () => {
    const res = await call('dave', 'GET', `/api/orders/${orders.alice}`);
    assert.equal(res.status, 403);
    const problem = (await res.json()) as { title: string; code: string };
    assert.equal(problem.code, 'forbidden');
    assert.equal(problem.title, 'This order belongs to someone else', 'the answer is the orders service\'s');
  });

  test('ok: a customer lists only her own orders; staff list everyone\'s', async () => {
    const mine = (await (await call('alice', 'GET', '/api/orders')).json()) as { orders: Array<{ owner: string }> };
    assert.ok(mine.orders.length > 0);
    assert.ok(mine.orders.every((order) => order.owner === subjects.get('alice')));
    const all = (await (await call('bob', 'GET', '/api/orders')).json()) as { orders: Array<{ owner: string }> };
    assert.ok(all.orders.some((order) => order.owner === subjects.get('alice')) && all.orders.some((order) => order.owner === subjects.get('dave')));
  });

  test('ok: refunds: staff refund once (then 409), customers and the service token are refused', async () => {
    const path = `/api/orders/${orders.dave}/refund`;
    for (const caller of ['anonymous', 'alice', 'dave', 'service'] as const) {
      const res = await call(caller, 'POST', path);
      assert.equal(res.status, caller === 'anonymous' ? 401 : 403, caller);
    }
    assert.equal((await call('bob', 'POST', path)).status, 200);
    assert.equal((await call('carol', 'POST', path)).status, 409);
  });

  test('fail-cross-origin: a cookie-authenticated order from another site is refused by the gateway', async () => {
    const res = await browsers.get('alice')!.fetch(`${demo.origin}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ items: [{ bookId: '1', quantity: 1 }] }),
    });
    assert.equal(res.status, 403);
  });

  test('ok: deleting a book: staff only', async () => {
    const created = (await (await call('bob', 'POST', '/api/books', book)).json()) as { id: string };
    for (const caller of ['anonymous', 'alice', 'service'] as const) {
      const res = await call(caller, 'DELETE', `/api/books/${created.id}`);
      assert.equal(res.status, caller === 'anonymous' ? 401 : 403, caller);
    }
    assert.equal((await call('carol', 'DELETE', `/api/books/${created.id}`)).status, 204);
    assert.equal((await call('bob', 'GET', `/api/books/${created.id}`)).status, 404);
  });
});
