/**
 * The SDK imports nothing of the server side: a service that installs `gatehouse/sdk` pulls in
 * no store, OAuth, identity, admin, CLI or CA server code. Follows relative imports from
 * src/sdk/index.ts transitively (every import form: test/helpers/imports.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, importSpecifiers, reachable } from './helpers/imports.ts';

// policy/routes.ts is the /policy HTTP route (fastify types): the SDK takes the pure policy modules.
const FORBIDDEN = /^src\/(store|oauth|identity|admin|cli|pki|tokens|events|gateway|config)\/|^src\/service\.ts$|^src\/policy\/routes\.ts$/;

/** Bare (package) imports of `files`, type-only ones included: the .d.ts files keep those. */
function packagesOf(files: string[]): Set<string> {
  const packages = new Set<string>();
  for (const file of files) {
    for (const spec of importSpecifiers(readFileSync(join(ROOT, file), 'utf8'))) {
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return packages;
}

test('ok: src/sdk reaches no server-side module', () => {
  const files = reachable('src/sdk/index.ts');
  assert.ok(files.includes('src/sdk/mtls-server.ts'), 'the walk follows imports');
  assert.deepEqual(files.filter((f) => FORBIDDEN.test(f)), []);
});

test('fail-detects-violation: the walk would catch a server import', () => {
  assert.ok(reachable('src/pki/index.ts').some((f) => FORBIDDEN.test(f)));
});

test('ok: every package the SDK imports is a dependency of packages/sdk (and nothing more)', () => {
  const packages = packagesOf(reachable('src/sdk/index.ts'));
  const manifest = JSON.parse(readFileSync(join(ROOT, 'packages/sdk/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.deepEqual([...packages].sort(), Object.keys(manifest.dependencies).sort());
  // The same ranges as the platform itself, so the SDK is tested with what it ships with.
  const platform = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const [name, range] of Object.entries(manifest.dependencies)) assert.equal(range, platform.dependencies[name], name);
});
