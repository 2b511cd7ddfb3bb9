/** `gatehouse token …` run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[]) => runCli(args, { dataDir });

before(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-token-'));
  assert.equal(gatehouse(['user', 'add', 'alice', '--email', 'alice@example.com', '--role', 'customer']).code, 0);
});
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: token create prints the token once with a warning; list never shows it', () => {
  const created = gatehouse(['token', 'create', '--user', 'alice', '--name', 'ci', '--scope', 'orders:read', '--expires', '30d']);
  assert.equal(created.code, 0, created.stderr);
  const token = /token \(shown once\): (gth_\S+)/.exec(created.stdout)?.[1];
  assert.ok(token && token.length === 40, created.stdout);
  assert.match(created.stdout, /created API token \S+ \(ci; scopes orders:read; expires \d{4}-/);
  assert.match(created.stderr, /warning: store the token now/);
  const listed = gatehouse(['token', 'list', '--user', 'alice']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^ID\s+NAME\s+SCOPES\s+CREATED\s+EXPIRES/);
  assert.match(listed.stdout, /\n\S+\s+ci\s+orders:read\s/);
  assert.doesNotMatch(listed.stdout + gatehouse(['token', 'list', '--user', 'alice', '--json']).stdout, new RegExp(token));
});

test('ok: token revoke <id> removes it from the list; revoking again fails', () => {
  const created = JSON.parse(gatehouse(['token', 'create', '--user', 'alice', '--name', 'deploy', '--scope', 'books:read orders:create', '--expires', '7d', '--json']).stdout) as { token: string; summary: { id: string; scopes: string[]; expiresAt: number; createdAt: number } };
  assert.deepEqual(created.summary.scopes, ['books:read', 'orders:create']);
  assert.equal(created.summary.expiresAt - created.summary.createdAt, 7 * 86400);
  const revoked = gatehouse(['token', 'revoke', created.summary.id]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`revoked API token ${created.summary.id}`));
  const ids = (JSON.parse(gatehouse(['token', 'list', '--user', 'alice', '--json']).stdout) as Array<{ id: string }>).map((t) => t.id);
  assert.ok(!ids.includes(created.summary.id));
  const again = gatehouse(['token', 'revoke', created.summary.id]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /not found/);
});

test('fail-scope-not-held: a scope covering none of the user\'s permissions is refused; nothing created', () => {
  const before = gatehouse(['token', 'list', '--user', 'alice', '--json']).stdout;
  const refused = gatehouse(['token', 'create', '--user', 'alice', '--name', 'refunds', '--scope', 'orders:refund', '--expires', '1d']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /orders:refund covers none of the user's permissions/);
  assert.equal(gatehouse(['token', 'list', '--user', 'alice', '--json']).stdout, before);
});

test('fail-usage: a missing expiry or a bad duration is a usage error', () => {
  const missing = gatehouse(['token', 'create', '--user', 'alice', '--name', 'x', '--scope', 'books:read']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--expires/);
  const bad = gatehouse(['token', 'create', '--user', 'alice', '--name', 'x', '--scope', 'books:read', '--expires', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gatehouse: --expires expects a duration/);
});

test('fail-too-long: an expiry beyond apiTokens.maxTtl is refused', () => {
  const refused = gatehouse(['token', 'create', '--user', 'alice', '--name', 'forever', '--scope', 'books:read', '--expires', '400d']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /apiTokens\.maxTtl/);
});
