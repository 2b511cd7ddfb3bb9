import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../config/index.ts';
import { clientSecretOf, secretVariable } from './client-secrets.ts';

const provider = (extra: Record<string, unknown> = {}) => configSchema.parse({ identityProviders: [{ id: 'corp-sso', name: 'Corp', type: 'oidc', issuer: 'https://sso.example.com', clientId: 'gh', ...extra }] }).identityProviders[0]!;

test('ok: the env variable is named after the id and wins over the file', () => {
  assert.equal(secretVariable('corp-sso'), 'GATEHOUSE_IDP_CORP_SSO_CLIENT_SECRET');
  assert.equal(clientSecretOf(provider({ clientSecretFile: '/nonexistent' }), { GATEHOUSE_IDP_CORP_SSO_CLIENT_SECRET: 's3cret' }, undefined), 's3cret');
});

test('ok: a 0600 file is read relative to gatehouse.yaml; neither means a public client', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-idp-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'corp.secret'), 'from-file\n', { mode: 0o600 });
  assert.equal(clientSecretOf(provider({ clientSecretFile: 'corp.secret' }), {}, join(dir, 'gatehouse.yaml')), 'from-file');
  assert.equal(clientSecretOf(provider(), {}, undefined), undefined);
});

test('fail-readable: a secret file others can read stops the start', { skip: process.platform === 'win32' ? 'no POSIX modes' : false }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-idp-secret-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'corp.secret'), 'from-file\n', { mode: 0o644 });
  assert.throws(() => clientSecretOf(provider({ clientSecretFile: join(dir, 'corp.secret') }), {}, undefined), /accessible by group or others/);
});
