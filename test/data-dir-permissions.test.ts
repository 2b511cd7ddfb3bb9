/**
 * The data directory holds password hashes, sessions, refresh tokens and the keyfiles: a real
 * `gatehouse` process restricts it at start and refuses keyfiles others can read.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

let parent: string;
let dataDir: string;
const mode = (path: string) => statSync(path).mode & 0o777;
const env = { GATEHOUSE_MASTER_KEY: undefined, GATEHOUSE_COOKIE_KEY: undefined };

before(() => {
  parent = mkdtempSync(join(tmpdir(), 'gatehouse-perms-'));
  dataDir = join(parent, 'data');
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o755);
});
after(() => rmSync(parent, { recursive: true, force: true }));

test('ok: a pre-existing 0755 data dir becomes 0700; gatehouse.db and the keyfiles are 0600', () => {
  const result = runCli(['ca', 'status'], { dataDir, env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(mode(dataDir), 0o700);
  for (const file of ['gatehouse.db', 'master.key', 'cookie.key']) assert.equal(mode(join(dataDir, file)), 0o600, file);
});

test('fail-key-readable: a group-readable master.key stops the CLI with a one-line chmod 600 error', () => {
  const keyfile = join(dataDir, 'master.key');
  chmodSync(keyfile, 0o644);
  try {
    const result = runCli(['ca', 'status'], { dataDir, env });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /^gatehouse: .*master\.key is accessible by group or others \(mode 0644\): run `chmod 600 .*master\.key`\n$/);
  } finally {
    chmodSync(keyfile, 0o600);
  }
});
