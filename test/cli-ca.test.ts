/** `gatehouse ca …` run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x509 } from '../src/shared/x509.ts';

const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
let dataDir: string;

/** process.execPath is the Node 24 that runs the tests (npm test puts it first on PATH). */
function gatehouse(args: string[]) {
  const result = spawnSync(process.execPath, [main, '--data-dir', dataDir, ...args], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_DATABASE_URL: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-ca-')); });
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: ca init creates the CA once, exports the root offline, and status shows it', () => {
  const keyFile = join(dataDir, 'root-key.pem');
  const init = gatehouse(['ca', 'init', '--offline-root', keyFile]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^created: root CN=Gatehouse Root CA/);
  assert.match(init.stdout, /root fingerprint \(SHA-256\): [a-f0-9]{64}/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(keyFile, 'utf8'), /BEGIN PRIVATE KEY/);
  assert.match(gatehouse(['ca', 'init']).stdout, /^already initialized/);
  const status = JSON.parse(gatehouse(['ca', 'status', '--json']).stdout) as { initialized: boolean; root: { keyOnline: boolean } };
  assert.equal(status.initialized, true);
  assert.equal(status.root.keyOnline, false);
});

test('ok: ca token prints a one-time token that pins the root', () => {
  const result = gatehouse(['ca', 'token', '--service', 'orders', '--ttl', '10m']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.trim(), /^ghjt\.[a-f0-9]{16}\.[A-Za-z0-9_-]{43}\.[a-f0-9]{64}$/);
  assert.match(result.stderr, /join token for orders, valid once until/);
});

test('ok: ca issue, list, revoke, crl', () => {
  const issued = gatehouse(['ca', 'issue', '--service', 'orders', '--key-out', join(dataDir, 'orders.key'), '--ttl', '1h']);
  assert.equal(issued.code, 0, issued.stderr);
  const serial = /serial ([a-f0-9]+)/.exec(issued.stderr)![1]!;
  assert.equal(x509.PemConverter.decode(issued.stdout).length, 2);
  const list = gatehouse(['ca', 'list', '--service', 'orders', '--json']);
  assert.deepEqual((JSON.parse(list.stdout) as Array<{ serial: string; status: string }>).map((r) => [r.serial, r.status]), [[serial, 'valid']]);
  const revoked = gatehouse(['ca', 'revoke', '--serial', serial.toUpperCase(), '--reason', 'keyCompromise']);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, new RegExp(`revoked 1 certificate\\(s\\) of orders: ${serial}`));
  assert.match(gatehouse(['ca', 'list', '--status', 'revoked']).stdout, new RegExp(`${serial}\\s+orders\\s+revoked`));
  const crl = gatehouse(['ca', 'crl']);
  const parsed = new x509.X509Crl(x509.PemConverter.decodeFirst(crl.stdout));
  assert.ok(parsed.entries.some((e) => e.serialNumber.replace(/^0+/, '') === serial));
});

test('fail-usage: bad input exits non-zero with one line and no stack', () => {
  const both = gatehouse(['ca', 'revoke', '--serial', 'ab', '--service', 'orders']);
  assert.equal(both.code, 2);
  assert.equal(both.stderr.trim().split('\n').length, 1);
  const unknown = gatehouse(['ca', 'revoke', '--serial', 'abcdef']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^gatehouse: No valid certificate with serial abcdef \(not_found\)\n$/);
  const tooLong = gatehouse(['ca', 'token', '--service', 'orders', '--ttl', '30d']);
  assert.equal(tooLong.code, 1);
  assert.match(tooLong.stderr, /at most 86400s/);
  assert.doesNotMatch(tooLong.stderr, /\n\s+at /);
});
