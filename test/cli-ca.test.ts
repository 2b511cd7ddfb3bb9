/** `gatehouse ca …` run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x509 } from '../src/x509/index.ts';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[]) => runCli(args, { dataDir });

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
  assert.match(init.stdout, /UNENCRYPTED: set GATEHOUSE_ROOT_KEY_PASSPHRASE/);
  assert.match(gatehouse(['ca', 'init']).stdout, /^already initialized/);
  const status = JSON.parse(gatehouse(['ca', 'status', '--json']).stdout) as { initialized: boolean; root: { keyOnline: boolean } };
  assert.equal(status.initialized, true);
  assert.equal(status.root.keyOnline, false);
});

test('fail-write: --offline-root into a missing directory exits 1 and the root key stays in the store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-ca-fail-'));
  try {
    const data = join(dir, 'data');
    const init = runCli(['ca', 'init', '--offline-root', join(dir, 'missing', 'root-key.pem')], { dataDir: data });
    assert.equal(init.code, 1);
    assert.match(init.stderr, /^gatehouse: .*ENOENT/);
    const status = JSON.parse(runCli(['ca', 'status', '--json'], { dataDir: data }).stdout) as { root: { keyOnline: boolean } };
    assert.equal(status.root.keyOnline, true, 'the root key was not removed');
    const again = runCli(['ca', 'init', '--offline-root', join(dir, 'root-key.pem')], { dataDir: data });
    assert.equal(again.code, 0, again.stderr);
    assert.match(readFileSync(join(dir, 'root-key.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ok: with GATEHOUSE_ROOT_KEY_PASSPHRASE the offline root key is written as encrypted PKCS#8', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-ca-enc-'));
  try {
    const keyFile = join(dir, 'root-key.pem');
    const init = runCli(['ca', 'init', '--offline-root', keyFile], { dataDir: join(dir, 'data'), env: { GATEHOUSE_ROOT_KEY_PASSPHRASE: 'correct horse battery staple' } });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /encrypted with GATEHOUSE_ROOT_KEY_PASSPHRASE/);
    const pem = readFileSync(keyFile, 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(createPrivateKey({ key: pem, passphrase: 'correct horse battery staple' }).asymmetricKeyType, 'ec');
    assert.throws(() => createPrivateKey({ key: pem, passphrase: 'wrong' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

test('ok: ca revoke --help lists every revocation reason the CA accepts', () => {
  const help = gatehouse(['ca', 'revoke', '--help']);
  assert.equal(help.code, 0);
  const text = help.stdout.replace(/\s+/g, ' ');
  for (const reason of ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn']) {
    assert.ok(text.includes(reason), `--help names ${reason}`);
  }
});

test('fail-bad-reason: an unknown --reason is a usage error (exit 2) naming the accepted reasons', () => {
  const result = gatehouse(['ca', 'revoke', '--serial', 'abcdef', '--reason', 'bored']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^gatehouse: --reason expects one of unspecified, keyCompromise, .*privilegeWithdrawn, received bored\n$/);
});

test('fail-reserved-service: ca token and ca issue refuse the CA\'s own service name', () => {
  const token = gatehouse(['ca', 'token', '--service', 'gatehouse']);
  assert.equal(token.code, 1);
  assert.match(token.stderr, /^gatehouse: The service name gatehouse is reserved for the CA itself \(identity_not_allowed\)\n$/);
  assert.equal(token.stdout, '');
  const issue = gatehouse(['ca', 'issue', '--service', 'gatehouse', '--key-out', join(dataDir, 'gatehouse.key')]);
  assert.equal(issue.code, 1);
  assert.match(issue.stderr, /reserved for the CA itself \(identity_not_allowed\)/);
  assert.equal(issue.stdout, '');
});

test('ok: ca rotate --prepare then --activate; --intermediate needs the root key online', () => {
  const offline = gatehouse(['ca', 'rotate', '--intermediate']);
  assert.equal(offline.code, 1, 'the root key went offline in the first test');
  assert.match(offline.stderr, /The root key is offline/);
  const before = JSON.parse(gatehouse(['ca', 'status', '--json']).stdout) as { root: { fingerprint: string } };
  const prepared = gatehouse(['ca', 'rotate', '--prepare']);
  assert.equal(prepared.code, 0, prepared.stderr);
  assert.match(prepared.stdout, /^prepared: root CN=Gatehouse Root CA .* \(fingerprint [a-f0-9]{64}\), intermediate CN=Gatehouse Intermediate CA/);
  const status = gatehouse(['ca', 'status']);
  assert.match(status.stdout, /roots in bundle\s+2/);
  assert.match(status.stdout, /next root\s+CN=Gatehouse Root CA/);
  assert.equal(gatehouse(['ca', 'rotate', '--prepare']).code, 1, 'one rotation at a time');
  const activated = gatehouse(['ca', 'rotate', '--activate']);
  assert.equal(activated.code, 0, activated.stderr);
  assert.match(activated.stdout, /join tokens minted from now on pin the new root [a-f0-9]{64}/);
  const after = JSON.parse(gatehouse(['ca', 'status', '--json']).stdout) as { root: { fingerprint: string; keyOnline: boolean }; bundleRoots: number; cas: Array<{ status: string }> };
  assert.notEqual(after.root.fingerprint, before.root.fingerprint);
  assert.equal(after.root.keyOnline, true);
  assert.equal(after.bundleRoots, 2, 'the retired root stays while its leaves are valid');
  assert.deepEqual(after.cas.map((c) => c.status).sort(), ['active', 'active', 'retired', 'retired']);
  const intermediate = gatehouse(['ca', 'rotate', '--intermediate']);
  assert.equal(intermediate.code, 0, intermediate.stderr);
  assert.match(intermediate.stdout, /^active: intermediate CN=Gatehouse Intermediate CA/);
  assert.equal(gatehouse(['ca', 'rotate']).code, 2);
});

test('fail-usage: importing without the root key needs --root-crl', () => {
  const result = gatehouse(['ca', 'init', '--import-root', 'r.pem', '--import-intermediate', 'i.pem', '--intermediate-key', 'k.pem']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /without --root-key the root stays offline and cannot sign its CRL: give its current CRL with --root-crl <file>/);
});
