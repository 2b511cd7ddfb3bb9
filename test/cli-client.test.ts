/** `gatehouse client …` run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[]) => runCli(args, { dataDir });

before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-client-')); });
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: client add prints the secret once with a warning; show never shows it', () => {
  const added = gatehouse(['client', 'add', 'Web shop', '--id', 'web', '--redirect-uri', 'https://shop.example/cb', '--post-logout-redirect-uri', 'https://shop.example/']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /created client web \(first-party; grants authorization_code, refresh_token\)/);
  const secret = /client secret \(shown once\): (\S+)/.exec(added.stdout)?.[1];
  assert.ok(secret && secret.length >= 43);
  assert.match(added.stderr, /warning: store the secret now/);
  const shown = gatehouse(['client', 'show', 'web']);
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /redirect URIs\s+https:\/\/shop\.example\/cb/);
  assert.doesNotMatch(shown.stdout + gatehouse(['client', 'show', 'web', '--json']).stdout, new RegExp(secret));
});

test('ok: third-party, public and service clients; list as table and JSON', () => {
  assert.equal(gatehouse(['client', 'add', 'Partner', '--id', 'partner', '--third-party', '--redirect-uri', 'https://partner.example/cb']).code, 0);
  const spa = gatehouse(['client', 'add', 'SPA', '--id', 'spa', '--public', '--redirect-uri', 'http://localhost:5173/cb']);
  assert.equal(spa.code, 0, spa.stderr);
  assert.doesNotMatch(spa.stdout, /secret/);
  const svc = gatehouse(['client', 'add', 'Orders', '--id', 'orders', '--grant', 'client_credentials', '--scope', 'events:read', '--role', 'staff']);
  assert.equal(svc.code, 0, svc.stderr);
  const table = gatehouse(['client', 'list']);
  assert.match(table.stdout, /^ID\s+NAME\s+TYPE\s+GRANTS/);
  assert.match(table.stdout, /\npartner\s+Partner\s+third-party/);
  const json = JSON.parse(gatehouse(['client', 'list', '--json']).stdout) as Array<{ clientId: string; public: boolean; roles: string[] }>;
  assert.deepEqual(json.map((c) => c.clientId).sort(), ['orders', 'partner', 'spa', 'web']);
  assert.equal(json.find((c) => c.clientId === 'spa')?.public, true);
  assert.deepEqual(json.find((c) => c.clientId === 'orders')?.roles, ['staff']);
});

test('ok: client add --access-token-ttl stores the client\'s own lifetime; a bad duration is a usage error', () => {
  const added = gatehouse(['client', 'add', 'Test caller', '--id', 'caller', '--grant', 'client_credentials', '--scope', 'events:read', '--role', 'staff', '--access-token-ttl', '5s', '--json']);
  assert.equal(added.code, 0, added.stderr);
  const client = JSON.parse(added.stdout) as { accessTokenTtl: number; roles: string[]; scope: string };
  assert.equal(client.accessTokenTtl, 5);
  assert.deepEqual(client.roles, ['staff']);
  assert.match(gatehouse(['client', 'show', 'caller']).stdout, /access tokens\s+5 s/);
  const bad = gatehouse(['client', 'add', 'Bad', '--grant', 'client_credentials', '--access-token-ttl', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^gatehouse: --access-token-ttl expects a duration/);
});

test('ok: client remove', () => {
  assert.equal(gatehouse(['client', 'remove', 'partner']).code, 0);
  assert.equal(gatehouse(['client', 'show', 'partner']).code, 1);
});

test('fail-invalid: a bad redirect URI exits non-zero with one line', () => {
  const result = gatehouse(['client', 'add', 'Bad', '--redirect-uri', 'not a uri']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^gatehouse: .*\(validation_failed\)\n$/);
});

test('fail-usage: --first-party with --third-party', () => {
  const result = gatehouse(['client', 'add', 'Both', '--first-party', '--third-party', '--redirect-uri', 'https://x.example/cb']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^gatehouse: use either --first-party or --third-party/);
});

test('fail-unknown: show and remove of an unknown client', () => {
  assert.match(gatehouse(['client', 'show', 'ghost']).stderr, /\(not_found\)/);
  assert.equal(gatehouse(['client', 'remove', 'ghost']).code, 1);
});
