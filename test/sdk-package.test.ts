/**
 * The SDK as another repository gets it: `npm pack` of the workspace package @gatehouse/sdk,
 * installed from the tarball into a scratch project without TypeScript, imported from plain
 * JavaScript, verifying a real token of a real Security Service — on the Node 24 that runs the
 * tests and on Node 22 (the `node@22` npm package, fetched with `npm exec` from the registry).
 * Nothing here is skipped: without the registry the Node 22 half fails, on CI and off it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startOAuthService, type OAuthFixture } from './oauth/helpers.ts';

const run = promisify(execFile);
const ROOT = resolve(new URL('..', import.meta.url).pathname);
const NODE_22 = 'node@22';

let fx: OAuthFixture;
let scratch: string;
let packed: { filename: string; files: Array<{ path: string }> };

/** Plain JavaScript, as a service would write it. */
const SCRIPT = `
import { createVerifier, clientCredentials, VerificationError } from '@gatehouse/sdk';
const { ISSUER: issuer, AUDIENCE: audience, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret } = process.env;
const tokens = clientCredentials({ issuer, clientId, clientSecret, scope: 'books:read' });
const verifier = createVerifier({ issuer, audience });
const identity = await verifier.verify(await tokens.token());
const refused = await verifier.verify('e30.e30.c2ln').then(() => false, (error) => error instanceof VerificationError);
console.log(JSON.stringify({ node: process.version, kind: identity.kind, subject: identity.subject, canRead: identity.can('orders:read'), refused }));
await verifier.close();
tokens.close();
`;

function npm(args: string[], cwd: string) {
  return run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 * 1024 * 1024 });
}

async function runScript(command: string, args: string[]): Promise<Record<string, unknown>> {
  const env = { ...process.env, ISSUER: fx.issuer, AUDIENCE: fx.api, CLIENT_ID: 'orders-svc', CLIENT_SECRET: fx.service.secret };
  const { stdout } = await run(command, args, { cwd: scratch, env, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-consumer-'));
  // prepack builds dist/ with tsc first.
  const { stdout } = await npm(['pack', '--workspace', '@gatehouse/sdk', '--pack-destination', scratch, '--json', '--silent'], ROOT);
  packed = (JSON.parse(stdout) as Array<typeof packed>)[0]!;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(scratch, 'check.js'), SCRIPT);
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(scratch, packed.filename)], scratch);
  fx = await startOAuthService('sqlite');
}, { timeout: 300_000 });

after(async () => {
  await fx?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('ok: the tarball holds JavaScript and declarations only, and names only the dependencies the SDK needs', () => {
  const paths = packed.files.map((f) => f.path);
  assert.ok(paths.includes('dist/sdk/index.js') && paths.includes('dist/sdk/index.d.ts'));
  assert.deepEqual(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')), []);
  assert.deepEqual(paths.filter((p) => /test|\/(store|oauth|identity|admin|cli|pki|tokens|events|gateway|config)\//.test(p)), []);
  const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/@gatehouse/sdk/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['@peculiar/x509', 'jose', 'openid-client', 'prom-client', 'reflect-metadata', 'undici']);
  assert.equal(existsSync(join(scratch, 'node_modules/typescript')), false, 'no TypeScript in the consumer');
});

test('ok: plain JavaScript on Node 24 imports the installed package and verifies a real token', async () => {
  const result = await runScript(process.execPath, ['check.js']);
  assert.match(String(result.node), /^v24\./);
  assert.deepEqual({ ...result, node: undefined }, { node: undefined, kind: 'service', subject: 'orders-svc', canRead: true, refused: true });
});

test('ok: the same on Node 22', { timeout: 300_000 }, async () => {
  const result = await runScript('npm', ['exec', '--yes', `--package=${NODE_22}`, '--', 'node', 'check.js']);
  assert.match(String(result.node), /^v22\./);
  assert.deepEqual({ ...result, node: undefined }, { node: undefined, kind: 'service', subject: 'orders-svc', canRead: true, refused: true });
});
