/**
 * The demo as a person uses personal API tokens: `npm start` (the real demo process on free
 * ports), a token made for alice with the CLI against the demo's data directory, then curl-style
 * requests through the demo's gateway — Bearer and Basic — answered by the orders service, which
 * sees only the exchanged JWT; revoking the token with the CLI refuses it within a second.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { removeDataDir, signInThroughGateway, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import { runCli } from './helpers/cli.ts';
import { waitFor } from './helpers/gateway.ts';

let demo: Bookstore;
let token: string;
let tokenId: string;

const gatehouse = (args: string[]) => runCli(['--config', demo.configPath, ...args], { dataDir: demo.dataDir });
const curl = (path: string, authorization: string, method = 'GET') => fetch(`${demo.origin}${path}`, { method, headers: { authorization, accept: 'application/json', 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"items":[]}' } : {}) });

before(async () => {
  demo = await startBookstore();
  // alice and dave each place an order as themselves, so a token that read others' orders would show.
  for (const user of ['alice', 'dave']) {
    const { browser } = await signInThroughGateway(demo.origin, user, demo.password);
    const placed = await browser.fetch(`${demo.origin}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', origin: demo.origin }, body: JSON.stringify({ items: [{ bookId: '2', quantity: 1 }] }) });
    assert.equal(placed.status, 201, `${user}'s order: ${placed.status}`);
  }
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
  assert.deepEqual(orders.map((order) => order.ownerName), ['alice'], 'exactly alice\'s one order, not dave\'s');
});

test('ok: the same with curl -u alice:gth_… (HTTP Basic)', async () => {
  const response = await curl('/api/orders', `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`);
  assert.equal(response.status, 200);
});

test('fail-not-in-scope: the orders:read token cannot place an order, though alice can (403)', async () => {
  const response = await curl('/api/orders', `Bearer ${token}`, 'POST');
  assert.equal(response.status, 403);
});

test('fail-revoked: gatehouse token revoke refuses the token at the gateway within a second of the command', async () => {
  assert.equal((await curl('/api/orders', `Bearer ${token}`)).status, 200);
  const revoked = gatehouse(['token', 'revoke', tokenId]);
  assert.equal(revoked.code, 0, revoked.stderr);
  // Timed from the command's exit (its process start-up is not the gateway's business); 1 s is the
  // requirement, the bound leaves room for a loaded CI machine.
  await waitFor(async () => (await curl('/api/orders', `Bearer ${token}`)).status === 401, 2000, 'the revoked token still passed 2 s after the command');
});

test('ok: anyone who finds a leaked token revokes it through the gateway (POST /api-tokens/revoke, 204 either way)', async () => {
  const created = gatehouse(['token', 'create', '--user', 'alice', '--name', 'leaked', '--scope', 'orders:read', '--expires', '1d', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const leaked = (JSON.parse(created.stdout) as { token: string }).token;
  assert.equal((await curl('/api/orders', `Bearer ${leaked}`)).status, 200);
  const report = (value: string) => fetch(`${demo.origin}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: value }) });
  assert.equal((await report(leaked)).status, 204);
  assert.equal((await report(`gth_${'0'.repeat(36)}`)).status, 204, 'the same answer for a token that never existed');
  await waitFor(async () => (await curl('/api/orders', `Bearer ${leaked}`)).status === 401, 2000, 'the reported token still passed after 2 s');
});
