/**
 * The SDK imports nothing of the server side: a service that installs `gatehouse/sdk` pulls in
 * no store, OAuth, identity, admin, CLI or CA server code. Follows relative imports from
 * src/sdk/index.ts transitively (every import form: test/helpers/imports.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachable } from './helpers/imports.ts';

const FORBIDDEN = /^src\/(store|oauth|identity|admin|cli|pki|tokens|events|gateway|config)\/|^src\/service\.ts$/;

test('ok: src/sdk reaches no server-side module', () => {
  const files = reachable('src/sdk/index.ts');
  assert.ok(files.includes('src/sdk/mtls-server.ts'), 'the walk follows imports');
  assert.deepEqual(files.filter((f) => FORBIDDEN.test(f)), []);
});

test('fail-detects-violation: the walk would catch a server import', () => {
  assert.ok(reachable('src/pki/index.ts').some((f) => FORBIDDEN.test(f)));
});
