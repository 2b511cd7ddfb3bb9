/**
 * The demo as a person uses personal API tokens: `npm start` (the real demo process on free
 * ports), a token made for alice with the CLI against the demo's data directory, then curl-style
 * requests through the demo's gateway — Bearer and Basic — answered by the orders service, which
 * sees only the exchanged JWT; revoking the token with the CLI refuses it within a second.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { removeDataDir, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import { runCli } from './helpers/cli.ts';
import { waitFor } from './helpers/gateway.ts';

let demo: Bookstore;
let token: string;
let tokenId: string;

const gatehouse = (args: string[]) => runCli(['--config', demo.configPath, ...args], { dataDir: demo.dataDir });
const curl = (path: string, authorization: string, method = 'GET') => fetch(`${demo.origin}${path}`, { method, headers: { authorization, accept: 'application/json', 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"items":[]}' } : {}) });

before(async () => {
  demo = await startBookstore();
  const created = gatehouse(['token', 'create', '--user', 'alice', '--name', 'script', '--scope', 'orders:read', '--expires', '30d', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const parsed = JSON.parse(created.stdout) as { token: string; summary: { id: string } };
  token = parsed.token;
  tokenId = parsed.summary.id;
});
after(async () => {
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
});

test('ok: alice\'s token lists her orders through the gateway (curl -H "Authorization: Bearer gth_…")', async () => {
  const response = await curl('/api/orders', `Bearer ${token}`);
  assert.equal(response.status, 200, await response.clone().text());
  const { orders } = (await response.json()) as { orders: Array<{ ownerName: string }> };
  assert.ok(orders.every((order) => order.ownerName === 'alice'));
});

test('ok: the same with curl -u alice:gth_… (HTTP Basic)', async () => {
  const response = await curl('/api/orders', `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`);
  assert.equal(response.status, 200);
});

test('fail-not-in-scope: the orders:read token cannot place an order, though alice can (403)', async () => {
  const response = await curl('/api/orders', `Bearer ${token}`, 'POST');
  assert.equal(response.status, 403);
});

test('fail-revoked: gatehouse token revoke refuses the token at the gateway (3 s bound: the CLI process start-up is included)', async () => {
  assert.equal((await curl('/api/orders', `Bearer ${token}`)).status, 200);
  const since = Date.now();
  const revoked = gatehouse(['token', 'revoke', tokenId]);
  assert.equal(revoked.code, 0, revoked.stderr);
  await waitFor(async () => (await curl('/api/orders', `Bearer ${token}`)).status === 401, 3000, 'the revoked token still passed after 3 s');
  // The CLI process itself takes most of this (start-up, store); the event reaches the gateway in milliseconds.
  assert.ok(Date.now() - since < 3000);
});
