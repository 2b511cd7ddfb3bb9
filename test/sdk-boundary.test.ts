/**
 * The SDK imports nothing of the server side: a service that installs `gatehouse/sdk` pulls in
 * no store, OAuth, identity, admin, CLI or CA server code. Follows relative imports from
 * src/sdk/index.ts transitively.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
// policy/routes.ts is the /policy HTTP route (fastify types): the SDK takes the pure policy modules.
const FORBIDDEN = /^src\/(store|oauth|identity|admin|cli|pki|tokens|events|gateway|config)\/|^src\/service\.ts$|^src\/policy\/routes\.ts$/;

/** Bare (package) imports met on the way, type-only ones included: the .d.ts files keep those. */
const packages = new Set<string>();

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec) queue.push(resolve(dirname(file), spec));
    }
    for (const match of source.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^.'"][^'"]*)['"]|^import\s+['"]([^.'"][^'"]*)['"]/gm)) {
      const name = (match[1] ?? match[2])!;
      if (!name.startsWith('node:')) packages.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
    }
  }
  return seen;
}

test('ok: src/sdk reaches no server-side module', () => {
  const files = [...reachable(resolve(root, 'src/sdk/index.ts'))].map((f) => relative(root, f));
  assert.ok(files.includes('src/sdk/mtls-server.ts'), 'the walk follows imports');
  assert.deepEqual(files.filter((f) => FORBIDDEN.test(f)), []);
});

test('fail-detects-violation: the walk would catch a server import', () => {
  const files = [...reachable(resolve(root, 'src/pki/index.ts'))].map((f) => relative(root, f));
  assert.ok(files.some((f) => FORBIDDEN.test(f)));
});

test('ok: every package the SDK imports is a dependency of packages/sdk (and nothing more)', () => {
  packages.clear();
  reachable(resolve(root, 'src/sdk/index.ts'));
  const manifest = JSON.parse(readFileSync(resolve(root, 'packages/sdk/package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.deepEqual([...packages].sort(), Object.keys(manifest.dependencies).sort());
  // The same ranges as the platform itself, so the SDK is tested with what it ships with.
  const platform = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const [name, range] of Object.entries(manifest.dependencies)) assert.equal(range, platform.dependencies[name], name);
});
