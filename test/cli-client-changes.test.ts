/**
 * `gatehouse client update` and `client rotate-secret` run as real processes against the data
 * directory of a running Security Service: the running service follows at its next request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { runCli } from './helpers/cli.ts';
import { startService, type TestService } from './helpers/service.ts';
import { rp, authorizationUrl, Browser, CALLBACK, tokenRequest, basic } from './oauth/helpers.ts';

const OTHER = 'http://127.0.0.1:9/other';

let dataDir: string;
let svc: TestService;
const gatehouse = (args: string[]) => runCli(args, { dataDir });
const secretOf = (stdout: string) => /client secret \(shown once\): (\S+)/.exec(stdout)?.[1];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-client-changes-'));
  svc = await startService({ config: { dataDir } });
});
after(async () => {
  await svc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const authorize = async (clientId: string, secret: string, redirectUri: string) => {
  const { url } = await authorizationUrl(await rp(svc.url, clientId, secret), { redirect_uri: redirectUri, scope: 'openid' });
  const step = await new Browser().follow(url.href, svc.url);
  return step.res.status === 200 && /name="password"/.test(await step.res.text()) ? 'login' : step.res.status;
};

test('ok: client update --redirect-uri replaces the list; the running service refuses the removed URI at once', async () => {
  const added = gatehouse(['client', 'add', 'Web', '--id', 'web', '--redirect-uri', CALLBACK, '--redirect-uri', OTHER]);
  assert.equal(added.code, 0, added.stderr);
  const secret = secretOf(added.stdout)!;
  assert.equal(await authorize('web', secret, OTHER), 'login');
  const updated = gatehouse(['client', 'update', 'web', '--redirect-uri', CALLBACK]);
  assert.equal(updated.code, 0, updated.stderr);
  assert.match(updated.stdout, /^updated client web\n$/);
  assert.equal(await authorize('web', secret, OTHER), 400);
  assert.equal(await authorize('web', secret, CALLBACK), 'login');
});

test('ok: client update changes only what is given (--json shows the client)', () => {
  const result = gatehouse(['client', 'update', 'web', '--name', 'Web shop', '--post-logout-redirect-uri', 'http://127.0.0.1:9/bye', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const client = JSON.parse(result.stdout) as { name: string; redirectUris: string[]; postLogoutRedirectUris: string[] };
  assert.equal(client.name, 'Web shop');
  assert.deepEqual(client.redirectUris, [CALLBACK]);
  assert.deepEqual(client.postLogoutRedirectUris, ['http://127.0.0.1:9/bye']);
});

test('ok: client rotate-secret --overlap 0s: the old secret is refused at once, the new one works', async () => {
  const added = gatehouse(['client', 'add', 'Worker', '--id', 'worker', '--grant', 'client_credentials', '--scope', 'events:read']);
  assert.equal(added.code, 0, added.stderr);
  const old = secretOf(added.stdout)!;
  const form = { grant_type: 'client_credentials', scope: 'events:read', resource: svc.url };
  assert.equal((await tokenRequest(svc.url, form, basic('worker', old))).status, 200);
  const rotated = gatehouse(['client', 'rotate-secret', 'worker', '--overlap', '0s']);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /the previous secret no longer works/);
  assert.match(rotated.stderr, /warning: store the secret now/);
  const fresh = secretOf(rotated.stdout)!;
  assert.equal((await tokenRequest(svc.url, form, basic('worker', old))).status, 401);
  assert.equal((await tokenRequest(svc.url, form, basic('worker', fresh))).status, 200);
});

test('ok: client rotate-secret --overlap 1h keeps the old secret working and says until when', async () => {
  const old = secretOf(gatehouse(['client', 'add', 'Batch', '--id', 'batch', '--grant', 'client_credentials', '--scope', 'events:read']).stdout)!;
  const rotated = gatehouse(['client', 'rotate-secret', 'batch', '--overlap', '1h']);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /the previous secret works until \d{4}-\d\d-\d\dT/);
  const form = { grant_type: 'client_credentials', scope: 'events:read', resource: svc.url };
  assert.equal((await tokenRequest(svc.url, form, basic('batch', old))).status, 200);
  assert.equal((await tokenRequest(svc.url, form, basic('batch', secretOf(rotated.stdout)!))).status, 200);
  assert.match(gatehouse(['client', 'show', 'batch']).stdout, /authentication\s+confidential \(client_secret_basic; previous secret until /);
});

test('ok: client add --auth-method private_key_jwt --jwks <file> prints no secret; show names the method', async () => {
  const { publicKey } = await generateKeyPair('ES256');
  const file = join(dataDir, 'worker-keys.json');
  writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }));
  const added = gatehouse(['client', 'add', 'Signer', '--id', 'signer', '--grant', 'client_credentials', '--auth-method', 'private_key_jwt', '--jwks', file]);
  assert.equal(added.code, 0, added.stderr);
  assert.doesNotMatch(added.stdout, /secret/);
  assert.match(gatehouse(['client', 'show', 'signer']).stdout, /authentication\s+private_key_jwt \(1 inline key\(s\)\)/);
  const post = gatehouse(['client', 'add', 'Poster', '--id', 'poster', '--grant', 'client_credentials', '--auth-method', 'client_secret_post']);
  assert.equal(post.code, 0, post.stderr);
  assert.match(gatehouse(['client', 'show', 'poster']).stdout, /authentication\s+confidential \(client_secret_post\)/);
});

test('fail-usage: update without options, a bad --overlap, --role with --no-roles → exit 2', () => {
  for (const args of [['client', 'update', 'web'], ['client', 'rotate-secret', 'worker', '--overlap', 'soon'], ['client', 'update', 'worker', '--role', 'staff', '--no-roles']]) {
    const result = gatehouse(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /^gatehouse: /);
  }
});

test('fail-invalid: a bad redirect URI or an unknown client exits 1 with one line; nothing changed', () => {
  const bad = gatehouse(['client', 'update', 'web', '--redirect-uri', 'http://evil.example/cb']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^gatehouse: .*\(validation_failed\)\n$/);
  assert.deepEqual((JSON.parse(gatehouse(['client', 'show', 'web', '--json']).stdout) as { redirectUris: string[] }).redirectUris, [CALLBACK]);
  assert.match(gatehouse(['client', 'rotate-secret', 'ghost']).stderr, /\(not_found\)/);
  assert.match(gatehouse(['client', 'rotate-secret', 'signer']).stderr, /\(conflict\)/);
});
