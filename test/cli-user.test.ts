/** `gatehouse user …` run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[], input?: string) => runCli(args, { dataDir, input });

before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-')); });
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: user add without a password generates one and prints it once', () => {
  const result = gatehouse(['user', 'add', 'alice', '--email', 'alice@example.com', '--role', 'customer']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /created user alice \(.+\) with roles customer/);
  assert.match(result.stdout, /generated password \(shown once\): [A-Za-z0-9]{20}\n/);
});

test('ok: user add --password-stdin, then list (table and JSON)', () => {
  assert.equal(gatehouse(['user', 'add', 'bob', '--email', 'bob@example.com', '--password-stdin'], 'correct horse battery staple\n').code, 0);
  const table = gatehouse(['user', 'list']);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^USERNAME\s+ID\s+EMAIL\s+STATUS\s+ROLES/);
  assert.match(table.stdout, /\nbob\s+\S+\s+bob@example\.com\s+active/);
  const json = JSON.parse(gatehouse(['user', 'list', '--json']).stdout) as Array<{ username: string; roles: string[] }>;
  assert.deepEqual(json.map((u) => u.username), ['alice', 'bob']);
  assert.deepEqual(json[0]!.roles, ['customer']);
});

test('ok: user disable, show, enable, grant, revoke', () => {
  assert.equal(gatehouse(['user', 'disable', 'bob']).code, 0);
  assert.equal((JSON.parse(gatehouse(['user', 'show', 'BOB', '--json']).stdout) as { status: string }).status, 'disabled');
  assert.equal(gatehouse(['user', 'enable', 'bob']).code, 0);
  assert.match(gatehouse(['user', 'grant', 'bob', 'staff']).stdout, /roles: staff/);
  assert.match(gatehouse(['user', 'revoke', 'bob', 'staff']).stdout, /roles: \(none\)/);
  assert.match(gatehouse(['user', 'show', 'bob']).stdout, /status\s+active/);
});

test('fail-conflict: a taken username exits non-zero with one line on stderr', () => {
  const result = gatehouse(['user', 'add', 'ALICE', '--email', 'other@example.com']);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^gatehouse: .*\(conflict\)\n$/);
});

test('fail-weak-password: refused with advice, nothing created', () => {
  const result = gatehouse(['user', 'add', 'carol', '--email', 'carol@example.com', '--password', 'password1']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^gatehouse: .*\(weak_password\)\n$/);
  assert.equal(gatehouse(['user', 'show', 'carol']).code, 1);
});

test('fail-usage: both password flags is a usage error (exit 2)', () => {
  const result = gatehouse(['user', 'add', 'dave', '--email', 'dave@example.com', '--password', 'x', '--password-stdin'], 'y');
  assert.equal(result.code, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});
